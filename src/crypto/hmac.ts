/**
 * The encrypt-then-MAC layer (spec §5): RFC 2104 HMAC over the full ciphertext text, prefix
 * included, printed as unpadded base64 and appended to the wire string with no separator.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import type { DigestName } from "./algorithms.js";
import { DIGEST_B64_LENGTHS, NODE_HASH_NAMES } from "./digest.js";

/** Unpadded base64 HMAC of `data` (taken byte-per-character) under `key`. */
export function computeHmac(type: DigestName, key: Buffer, data: string): string {
  const h = createHmac(NODE_HASH_NAMES[type], keyObject(key));
  h.update(data, "latin1");
  // Straight to text: no intermediate Buffer for a value every junk packet computes.
  const text = h.digest("base64");
  const eq = text.indexOf("=");
  return eq < 0 ? text : text.slice(0, eq);
}

/**
 * The key as a KeyObject, made once per key Buffer: creating the HMAC from a KeyObject skips
 * copying the key into OpenSSL on every call (about a sixth of an HMAC's cost on a junk packet).
 * Keyed by the Buffer's identity, so a key that is replaced (SIGHUP) simply gets a new entry.
 */
function keyObject(key: Buffer): KeyObject {
  let k = KEY_OBJECTS.get(key);
  if (!k) {
    k = createSecretKey(key);
    KEY_OBJECTS.set(key, k);
  }
  return k;
}

const KEY_OBJECTS = new WeakMap<Buffer, KeyObject>();

/** Number of wire characters the HMAC of this type occupies. */
export function hmacLength(type: DigestName): number {
  return DIGEST_B64_LENGTHS[type];
}

/**
 * Constant-time equality of two texts over the expected length, like libfko's
 * `constant_runtime_cmp`: no early exit, and a length difference is simply a mismatch.
 */
export function constantTimeEqual(expected: string, received: string): boolean {
  // Over the expected length whatever was received, without allocating: this runs for every
  // packet that reaches an HMAC check, junk included.
  let diff = expected.length ^ received.length;
  for (let i = 0; i < expected.length; i++) {
    // A missing character reads as NaN, which `| 0` turns into 0: still compared, never equal
    // by accident because the length difference is already in `diff`.
    diff |= (expected.charCodeAt(i) ^ (received.charCodeAt(i) | 0)) & 0xff;
  }
  return diff === 0;
}
