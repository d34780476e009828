/**
 * The encrypt-then-MAC layer (spec §5): RFC 2104 HMAC over the full ciphertext text, prefix
 * included, printed as unpadded base64 and appended to the wire string with no separator.
 *
 * Why not `createHmac`: every refused junk packet of the right shape costs one HMAC, and on
 * Node 20 `createHmac` spends about 1 µs per call setting up a stream object and an OpenSSL
 * context before hashing a few hundred bytes — half the cost of refusing such a packet. The
 * RFC 2104 construction over the one-shot `crypto.hash` (native, no object per call) gives
 * the same bytes in about half the time: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), with the key
 * padded (or first hashed) to the hash's block size once per key. The hashing itself stays
 * OpenSSL's; test/unit/crypto-hmac.test.ts checks every digest type against `createHmac`.
 */
import { createHash, hash } from "node:crypto";
import type { DigestName } from "./algorithms.js";
import {
  DIGEST_B64_LENGTHS,
  DIGEST_BLOCK_SIZES,
  DIGEST_RAW_LENGTHS,
  NODE_HASH_NAMES,
} from "./digest.js";

/** Unpadded base64 HMAC of `data` (taken byte-per-character) under `key`. */
export function computeHmac(type: DigestName, key: Buffer, data: string): string {
  const text = paddedHmac(padsFor(type, key), "", data, data.length);
  return text.slice(0, DIGEST_B64_LENGTHS[type]);
}

/**
 * Whether `text` ends, after its first `bodyLength` characters, with the HMAC of
 * `prefix + text[0, bodyLength)`: the verifier's question, answered without slicing the
 * packet into body and tag or joining the prefix on (junk never needs those strings).
 * Compared in constant time over the HMAC's length.
 */
export function hmacMatches(
  type: DigestName,
  key: Buffer,
  prefix: string,
  text: string,
  bodyLength: number,
): boolean {
  const expected = paddedHmac(padsFor(type, key), prefix, text, bodyLength);
  return constantTimeEqualAt(expected, DIGEST_B64_LENGTHS[type], text, bodyLength);
}

/** Number of wire characters the HMAC of this type occupies. */
export function hmacLength(type: DigestName): number {
  return DIGEST_B64_LENGTHS[type];
}

/**
 * Constant-time equality of two texts over the expected length, like libfko's
 * `constant_runtime_cmp`: no early exit, and a length difference is simply a mismatch.
 */
export function constantTimeEqual(expected: string, received: string): boolean {
  return constantTimeEqualAt(expected, expected.length, received, 0);
}

/**
 * The first `n` characters of `expected` against `received` from `offset` to its end, in
 * constant time over `n`; a different length of the received part is a mismatch.
 */
function constantTimeEqualAt(expected: string, n: number, received: string, offset: number) {
  // No allocation: this runs for every packet that reaches an HMAC check, junk included.
  let diff = n ^ (received.length - offset);
  for (let i = 0; i < n; i++) {
    // A missing character reads as NaN, which `| 0` turns into 0: still compared, never equal
    // by accident because the length difference is already in `diff`.
    diff |= (expected.charCodeAt(i) ^ (received.charCodeAt(offset + i) | 0)) & 0xff;
  }
  return diff === 0;
}

/** One key's HMAC state for one digest type: its pads, and room for the message behind them. */
interface Pads {
  type: DigestName;
  algorithm: string;
  block: number;
  /** K ⊕ ipad, then the message (grown when a longer one comes). */
  inner: Buffer;
  /** The prefix now written behind the pad: the same one comes packet after packet. */
  prefix: string;
  /** K ⊕ opad, then the inner digest. */
  outer: Buffer;
}

/**
 * The pads of `key`, made once per key Buffer and type. Keyed by the Buffer's identity, so a key
 * that is replaced (SIGHUP) simply gets a new entry and the old one goes with its Buffer.
 */
function padsFor(type: DigestName, key: Buffer): Pads {
  const known = PADS.get(key);
  if (known?.type === type) return known;
  const algorithm = NODE_HASH_NAMES[type];
  const block = DIGEST_BLOCK_SIZES[type];
  const k = key.length > block ? createHash(algorithm).update(key).digest() : key;
  const inner = Buffer.alloc(block + INITIAL_MESSAGE_ROOM, 0x36);
  const outer = Buffer.alloc(block + DIGEST_RAW_LENGTHS[type], 0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i] = 0x36 ^ (k[i] as number);
    outer[i] = 0x5c ^ (k[i] as number);
  }
  const pads: Pads = { type, algorithm, block, inner, prefix: "", outer };
  PADS.set(key, pads);
  return pads;
}

const PADS = new WeakMap<Buffer, Pads>();
/** An SPA wire string is under 1,500 characters; the room grows if a longer message comes. */
const INITIAL_MESSAGE_ROOM = 2048;

/** Padded base64 HMAC of `prefix + text[0, length)`, each character taken as one byte. */
function paddedHmac(p: Pads, prefix: string, text: string, length: number): string {
  const size = p.block + prefix.length + length;
  if (size > p.inner.length) {
    const grown = Buffer.alloc(size * 2);
    p.inner.copy(grown, 0, 0, p.block + p.prefix.length);
    p.inner = grown;
  }
  if (prefix !== p.prefix) {
    p.inner.write(prefix, p.block, "latin1");
    p.prefix = prefix;
  }
  p.inner.write(text, p.block + prefix.length, length, "latin1");
  // The inner digest as "binary" (latin1) text is its bytes one per character: no Buffer per
  // packet ("buffer" output costs more than the text).
  p.outer.write(hash(p.algorithm, p.inner.subarray(0, size), "binary"), p.block, "latin1");
  return hash(p.algorithm, p.outer, "base64");
}
