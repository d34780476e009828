/**
 * SPA key generation as fwknop's `--key-gen` does it (spec §4.7): a 32-byte Rijndael key and an
 * HMAC key whose default length follows the HMAC type. Pure: random bytes come in as a function.
 */
import { ok, type Result, reject } from "../errors.js";
import type { DigestName } from "./algorithms.js";

/** Default HMAC key lengths; SHA3 types have none upstream (a length must be given). */
const DEFAULT_HMAC_KEY_LEN: Partial<Record<DigestName, number>> = {
  md5: 16,
  sha1: 20,
  sha256: 64,
  sha384: 128,
  sha512: 128,
};

export const DEFAULT_KEY_LEN = 32;
const MAX_KEY_LEN = 32;
const MAX_HMAC_KEY_LEN = 128;

export interface GeneratedKeys {
  key: Buffer;
  hmacKey: Buffer;
}

export interface KeyGenOptions {
  keyLen?: number;
  hmacKeyLen?: number;
  hmacType?: DigestName;
}

export function generateKeyPair(
  opts: KeyGenOptions,
  random: (n: number) => Buffer,
): Result<GeneratedKeys> {
  const keyLen = opts.keyLen ?? DEFAULT_KEY_LEN;
  if (keyLen < 1 || keyLen > MAX_KEY_LEN) {
    return reject(
      "FKO_ERROR_INVALID_DATA_FUNCS_GEN_KEYLEN_VALIDFAIL",
      `key length ${keyLen} is not in 1-${MAX_KEY_LEN}`,
    );
  }
  const hmacLen = opts.hmacKeyLen ?? DEFAULT_HMAC_KEY_LEN[opts.hmacType ?? "sha256"];
  if (hmacLen === undefined || hmacLen < 1 || hmacLen > MAX_HMAC_KEY_LEN) {
    return reject(
      "FKO_ERROR_INVALID_DATA_FUNCS_GEN_HMACLEN_VALIDFAIL",
      hmacLen === undefined
        ? `no default HMAC key length for ${opts.hmacType}: give --hmac-key-len`
        : `HMAC key length ${hmacLen} is not in 1-${MAX_HMAC_KEY_LEN}`,
    );
  }
  return ok({ key: random(keyLen), hmacKey: random(hmacLen) });
}

/** The two lines fwknop prints and writes (standard base64 with padding, unlike the wire). */
export function formatKeyLines(keys: GeneratedKeys): string {
  return `KEY_BASE64: ${keys.key.toString("base64")}\nHMAC_KEY_BASE64: ${keys.hmacKey.toString("base64")}\n`;
}
