/**
 * Byte-level parser of one `digest.cache` entry line:
 * `<digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>`, fields separated by
 * spaces or tabs. No per-line strings or arrays (it runs a million times when a big cache
 * loads): numbers land in `lineFields`, and only addresses that are not dotted quads (IPv6)
 * become strings.
 */
import { DIGEST_CHARS, decodeDigestKey, FIELD, KEY_CHARS } from "./digest-table.js";

/** The numeric fields of the last line scanned, indexed by FIELD (addresses as numbers). */
export const lineFields = new Uint32Array(6);

/**
 * The first 8 bytes of the last line's binary digest (its key, words 0 and 1) when
 * `lineText.keyed`; room for the 9 bytes the decoder writes.
 */
export const lineDigest = new Uint32Array(4);
const lineDigestBytes = new Uint8Array(lineDigest.buffer);

/** What `scanLine` found beyond the numbers. */
export const lineText = {
  /**
   * The digest is 43 characters, as long as a base64 SHA-256, and its key decodes into
   * lineDigest (decodeDigestKey).
   */
  keyed: false,
  /** Where the digest starts in the buffer, and its length. */
  digestStart: 0,
  digestLength: 0,
  /** Addresses kept verbatim (not dotted quads), else undefined. */
  src: undefined as string | undefined,
  dst: undefined as string | undefined,
};

const SPACE = 32;
const TAB = 9;
const NL = 10;
const CR = 13;

/**
 * Parses the line starting at `start` and ending at the next newline (or at `end`). Returns
 * where it ends (the newline's index, or `end`) when it is a well-formed entry line, its fields
 * then in lineFields (the addresses only with `addresses`: a loader that keeps just the digest
 * and the time skips converting them); -1 when it is not. One pass over the bytes with everything in locals, the
 * newline found on the way: it runs once per line of a big cache.
 */
export function scanLine(b: Uint8Array, start: number, end: number, addresses = true): number {
  let p = start;
  while (p < end && (b[p] === SPACE || b[p] === TAB)) p++;
  const d0 = p;
  // The common case, a base64 SHA-256, is keyed at once instead of being scanned byte by byte.
  lineText.keyed = keyedDigestAt(b, p);
  if (lineText.keyed) p += DIGEST_CHARS;
  else while (p < end && b[p] !== SPACE && b[p] !== TAB && b[p] !== NL) p++;
  const dLen = p - d0;
  if (dLen === 0 || dLen > 64) return -1;
  lineText.digestStart = d0;
  lineText.digestLength = dLen;
  lineText.src = undefined;
  lineText.dst = undefined;
  const f = lineFields;
  for (let field: number = FIELD.proto; field <= FIELD.time; field++) {
    while (p < end && (b[p] === SPACE || b[p] === TAB)) p++;
    const s = p;
    if ((field === FIELD.src || field === FIELD.dst) && !addresses) {
      // Any token of 1 to 45 characters is an address: only its length is checked.
      // Most bytes are above the space: one comparison each.
      for (; p < end; p++) {
        const c = b[p] as number;
        if (c <= SPACE && (c === SPACE || c === TAB || c === NL)) break;
      }
      if (p === s || p - s > 45) return -1;
      continue;
    }
    if (field === FIELD.src || field === FIELD.dst) {
      // A dotted quad as a number; any other token up to 45 characters (IPv6) verbatim.
      let n = 0;
      let octet = 0;
      let digits = 0;
      let dots = 0;
      let quad = true;
      for (; p < end; p++) {
        const c = b[p] as number;
        if (c === SPACE || c === TAB || c === NL) break;
        if (c >= 0x30 && c <= 0x39) {
          // A leading zero ("010") would not survive the round trip through a number.
          if (digits === 1 && octet === 0) quad = false;
          octet = octet * 10 + (c - 0x30);
          digits++;
          if (octet > 255) quad = false;
        } else if (c === 0x2e && digits > 0 && dots < 3) {
          n = n * 256 + octet;
          octet = 0;
          digits = 0;
          dots++;
        } else {
          quad = false;
        }
      }
      const len = p - s;
      if (len === 0 || len > 45) return -1;
      if (quad && dots === 3 && digits > 0) {
        f[field] = n * 256 + octet;
      } else {
        f[field] = 0;
        const text = latin1(b, s, len);
        if (field === FIELD.src) lineText.src = text;
        else lineText.dst = text;
      }
      continue;
    }
    // A decimal number up to the field's maximum, ending at whitespace or the line end.
    const max = field === FIELD.proto ? 255 : field === FIELD.time ? 0xffffffff : 65535;
    let v = 0;
    for (; p < end; p++) {
      const c = b[p] as number;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      if (v > max) return -1;
    }
    if (p === s) return -1;
    f[field] = v;
    if (p === end || b[p] === NL) return field === FIELD.time ? p : -1;
    // A CR right before the newline (a file edited on Windows) ends the line too.
    if (b[p] === CR && (p + 1 === end || b[p + 1] === NL)) {
      return field === FIELD.time ? p + 1 : -1;
    }
    if (b[p] !== SPACE && b[p] !== TAB) return -1;
  }
  // Whatever follows the time is ignored, as upstream's sscanf does.
  const nl = b.indexOf(NL, p);
  return nl === -1 || nl > end ? end : nl;
}

/** The widest line `scanCanonicalLine` takes, its newline included: digest, proto, two addresses, two ports, time. */
export const CANONICAL_LINE_MAX = DIGEST_CHARS + 1 + 4 + 2 * (45 + 1) + 2 * (5 + 1) + 10 + 1;

/**
 * The loader's fast path, for the line every writer produces: a canonical SHA-256 at the line's
 * start, fields separated by single spaces, numbers no wider than their maximum, a bare newline.
 * Returns the newline's index, the key then in lineDigest and the time in lineFields (nothing
 * else is set); -1 for any other line, which scanLine then decides (it may well be valid). Every
 * line taken here is one scanLine accepts with the same key and time; the straight-line checks
 * cost about half of scanLine's field loop. Needs CANONICAL_LINE_MAX bytes before `end`, so no
 * read strays past it.
 */
export function scanCanonicalLine(b: Uint8Array, start: number, end: number): number {
  if (end - start < CANONICAL_LINE_MAX || b[start + DIGEST_CHARS] !== SPACE) return -1;
  if (!keyedDigestAt(b, start)) return -1;
  if (digitsAt(b, start + DIGEST_CHARS + 1, 3, 255, SPACE) < 0) return -1;
  let p = tokenAt(b, stop + 1);
  if (p < 0 || digitsAt(b, p + 1, 5, 65535, SPACE) < 0) return -1;
  p = tokenAt(b, stop + 1);
  if (p < 0 || digitsAt(b, p + 1, 5, 65535, SPACE) < 0) return -1;
  const time = digitsAt(b, stop + 1, 10, 0xffffffff, NL);
  if (time < 0) return -1;
  lineFields[FIELD.time] = time;
  return stop;
}

/**
 * Whether a 43-character digest token starts at `p` (a space or tab after it, no separator
 * within) and its key decodes into lineDigest. Assumes `p + DIGEST_CHARS` is inside `b` or
 * reads undefined there, which is no separator.
 */
function keyedDigestAt(b: Uint8Array, p: number): boolean {
  const after = b[p + DIGEST_CHARS];
  if ((after !== SPACE && after !== TAB) || !decodeDigestKey(b, p, lineDigestBytes)) return false;
  for (let k = p + KEY_CHARS, e = p + DIGEST_CHARS; k < e; k++) {
    const c = b[k] as number;
    if (c <= SPACE && (c === SPACE || c === TAB || c === NL)) return false;
  }
  return true;
}

/** Where the last digitsAt stopped (at the byte that ends the number). */
let stop = 0;

/** The value of 1 to `width` digits at `p` followed by `ender`, if at most `max`; else -1. */
function digitsAt(b: Uint8Array, p: number, width: number, max: number, ender: number): number {
  const s = p;
  let v = 0;
  for (const e = p + width; p < e; p++) {
    const d = (b[p] as number) - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  stop = p;
  return p > s && v <= max && b[p] === ender ? v : -1;
}

/** The end of an address token of 1 to 45 bytes above the space at `p`, ended by a space; else -1. */
function tokenAt(b: Uint8Array, p: number): number {
  const s = p;
  const e = p + 45;
  while (p < e && (b[p] as number) > SPACE) p++;
  return p > s && b[p] === SPACE ? p : -1;
}

export function latin1(b: Uint8Array, start: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, len).toString("latin1");
}
