/**
 * The algorithm names and Rijndael sizes the crypto primitives work with (libfko's digest and
 * encryption-mode sets, lib/fko_limits.h). The protocol's wire ids, display names and parsers
 * for them live in protocol/constants.ts, which builds on these (protocol → crypto, never back).
 */

/** Digest algorithms; one list serves the inner digest and the HMAC. */
export type DigestName = "md5" | "sha1" | "sha256" | "sha384" | "sha512" | "sha3_256" | "sha3_512";

export type EncryptionMode = "CBC" | "ECB" | "CFB" | "OFB" | "CTR" | "legacy" | "Asymmetric";

/** Modes usable with Rijndael (everything but the GPG placeholder). */
export type SymmetricMode = Exclude<EncryptionMode, "Asymmetric">;

/**
 * Rijndael key, block and salt sizes in bytes, and the plaintext shape libfko's decrypt checks
 * before it calls a decryption good (length, 16-digit random value). "Max" sizes are exclusive.
 */
export const RIJNDAEL_LIMITS = {
  /** Encoded, plaintext and encrypted texts must be shorter than this. */
  MAX_SPA_ENCODED_MSG_SIZE: 1500,
  MIN_SPA_ENCODED_MSG_SIZE: 36,
  FKO_RAND_VAL_SIZE: 16,
  RIJNDAEL_MAX_KEYSIZE: 32,
  RIJNDAEL_MIN_KEYSIZE: 16,
  RIJNDAEL_BLOCKSIZE: 16,
  SALT_LEN: 8,
} as const;

/** Base64 of `Salted__`: the constant start of every Rijndael ciphertext text, cut off the wire. */
export const B64_RIJNDAEL_SALT = "U2FsdGVkX1";
