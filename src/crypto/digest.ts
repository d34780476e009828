/**
 * Message digests used by the codec (spec §2.2): the inner digest, the replay digest and, through
 * hmac.ts, the HMAC. Output is unpadded base64, as libfko writes it.
 */
import crypto, { createHash } from "node:crypto";
import type { DigestName } from "./algorithms.js";
import { b64uEncode } from "./base64.js";

/** Node/OpenSSL algorithm names. SHA3 is FIPS-202 SHA-3, as libfko uses. */
export const NODE_HASH_NAMES: Readonly<Record<DigestName, string>> = {
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  sha3_256: "sha3-256",
  sha3_512: "sha3-512",
};

/** Raw digest sizes in bytes. */
export const DIGEST_RAW_LENGTHS: Readonly<Record<DigestName, number>> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  sha3_256: 32,
  sha3_512: 64,
};

/** Unpadded base64 lengths; the decoder infers the digest type from these. */
export const DIGEST_B64_LENGTHS: Readonly<Record<DigestName, number>> = {
  md5: 22,
  sha1: 27,
  sha256: 43,
  sha384: 64,
  sha512: 86,
  sha3_256: 43,
  sha3_512: 86,
};

/** Hash block sizes, which HMAC pads keys to. */
export const DIGEST_BLOCK_SIZES: Readonly<Record<DigestName, number>> = {
  md5: 64,
  sha1: 64,
  sha256: 64,
  sha384: 128,
  sha512: 128,
  sha3_256: 136,
  sha3_512: 72,
};

export function digestRaw(type: DigestName, data: string | Buffer): Buffer {
  // A Buffer goes to the one-shot hash (see digestB64); a string keeps its latin1 bytes.
  if (ONE_SHOT !== undefined && typeof data !== "string") {
    return ONE_SHOT(NODE_HASH_NAMES[type], data, "buffer") as unknown as Buffer;
  }
  const h = createHash(NODE_HASH_NAMES[type]);
  // A string goes in with its encoding named: no intermediate Buffer per packet.
  if (typeof data === "string") h.update(data, "latin1");
  else h.update(data);
  return h.digest();
}

/** Unpadded base64 digest of `data` (strings are taken byte-per-character). */
export function digestB64(type: DigestName, data: string | Buffer): string {
  // Node's one-shot hash (20.12 and later) is about three times cheaper than a Hash object,
  // and every SPA-shaped packet pays one (the replay digest). It reads a string as UTF-8, which
  // is the same bytes as latin1 only for ASCII text, as every wire string is.
  if (ONE_SHOT !== undefined && (typeof data !== "string" || !NON_ASCII.test(data))) {
    const s = ONE_SHOT(NODE_HASH_NAMES[type], data, "base64");
    const eq = s.indexOf("=");
    return eq < 0 ? s : s.slice(0, eq);
  }
  return b64uEncode(digestRaw(type, data));
}

const ONE_SHOT: typeof crypto.hash | undefined =
  typeof crypto.hash === "function" ? crypto.hash : undefined;
const NON_ASCII = /[\u0080-\uffff]/;
