/**
 * Base64 the way libfko does it (spec §2.1): standard alphabet; encoded output is cut at the
 * first `=`; decoding stops at NUL or the first `=`, refuses any other non-alphabet character,
 * tolerates lengths ≡ 1 (mod 4) and ignores leftover bits.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Character code → 6-bit value, or -1 for characters outside the alphabet. */
const VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Unpadded base64 (libfko strips everything from the first `=`). */
export function b64uEncode(buf: Buffer): string {
  const s = buf.toString("base64");
  const eq = s.indexOf("=");
  return eq < 0 ? s : s.slice(0, eq);
}

/**
 * libfko `b64_decode`: returns the decoded bytes, or undefined when a character before the
 * first `=` (or NUL) is outside the alphabet. The caller decides whether to cut at NUL.
 */
export function b64Decode(text: string): Buffer | undefined {
  const out: number[] = [];
  let acc = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 0x3d) break;
    const v = c < 256 ? (VALUE[c] ?? -1) : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    // Every character after the first of a quartet completes one more byte.
    const pos = i & 3;
    if (pos !== 0) out.push((acc >> (6 - 2 * pos)) & 0xff);
  }
  return Buffer.from(out);
}

/** libfko `is_base64`: every character is ASCII alphanumeric, `+`, `/` or `=`. */
export function isBase64Text(s: string): boolean {
  // A native regex scan, once per packet: the precheck asks first, and the codec's later
  // questions about the same string (here and in cStringText) are answered from memory.
  if (s === lastBase64) return true;
  if (!BASE64_TEXT.test(s)) return false;
  lastBase64 = s;
  // Base64 text has no NUL and no wide character: it is its own C string.
  lastPlain = s;
  return true;
}

/** The last text found to be base64 text. */
let lastBase64 = "";

const BASE64_TEXT = /^[A-Za-z0-9+/=]*$/;

/**
 * `cString` for text taken byte-per-character (latin1): everything before the first character
 * whose byte is NUL. Text that is plain latin1 without NUL, as every wire string is, comes back
 * as it is, without the round trip through a Buffer.
 */
export function cStringText(s: string): string {
  // One packet's wire string is checked by several codec steps in a row: scan it once.
  if (s === lastPlain) return s;
  if (!NUL_OR_WIDE.test(s)) {
    lastPlain = s;
    return s;
  }
  return cString(Buffer.from(s, "latin1")).toString("latin1");
}

const NUL_OR_WIDE = /[\0\u0100-\uffff]/;
/** The last text found to be plain latin1 without NUL. */
let lastPlain = "";

/** The bytes of a C string held in a buffer: everything before the first NUL. */
export function cString(buf: Buffer): Buffer {
  const nul = buf.indexOf(0);
  return nul < 0 ? buf : buf.subarray(0, nul);
}
