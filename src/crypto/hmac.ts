/**
 * The encrypt-then-MAC layer (spec §5): RFC 2104 HMAC over the full ciphertext text, prefix
 * included, printed as unpadded base64 and appended to the wire string with no separator.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { DigestName } from "./algorithms.js";
import { b64uEncode } from "./base64.js";
import { DIGEST_B64_LENGTHS, NODE_HASH_NAMES } from "./digest.js";

/** Unpadded base64 HMAC of `data` (taken byte-per-character) under `key`. */
export function computeHmac(type: DigestName, key: Buffer, data: string): string {
  const h = createHmac(NODE_HASH_NAMES[type], key);
  h.update(Buffer.from(data, "latin1"));
  return b64uEncode(h.digest());
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
  const a = Buffer.from(expected, "latin1");
  const b = Buffer.alloc(a.length);
  b.write(received, 0, "latin1");
  return timingSafeEqual(a, b) && received.length === expected.length;
}
