/**
 * Byte-level parser of one `digest.cache` entry line:
 * `<digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>`, fields separated by
 * spaces or tabs. No per-line strings or arrays (it runs a million times when a big cache
 * loads): numbers land in `lineFields`, and only addresses that are not dotted quads (IPv6) and
 * digests that are not canonical become strings.
 */
import { DIGEST_CHARS, decodeDigestKey, FIELD } from "./digest-table.js";

/** The numeric fields of the last line scanned, indexed by FIELD (addresses as numbers). */
export const lineFields = new Uint32Array(6);

/** The first 16 bytes of the last line's binary digest (its key), when `lineText.canonical`. */
export const lineDigest = new Uint32Array(4);
const lineDigestBytes = new Uint8Array(lineDigest.buffer);

/** What `scanLine` found beyond the numbers. */
export const lineText = {
  /** The digest is canonical base64 SHA-256, decoded into lineDigest. */
  canonical: false,
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
  // The common case, a canonical SHA-256, is decoded (and so checked) at once instead of being
  // scanned byte by byte.
  const after = b[p + DIGEST_CHARS];
  lineText.canonical = (after === SPACE || after === TAB) && decodeDigestKey(b, p, lineDigestBytes);
  if (lineText.canonical) p += DIGEST_CHARS;
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

export function latin1(b: Uint8Array, start: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, len).toString("latin1");
}
