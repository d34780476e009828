/**
 * Rijndael as libfko uses it (spec §4): AES-256 with an OpenSSL `enc`-compatible salted key
 * derivation (MD5, one round), PKCS#7 padding in every mode, `Salted__` ‖ salt framing and
 * unpadded base64 output. Decryption is as lenient as libfko's.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { FwknopError, ok, type Result, reject } from "../errors.js";
import { B64_RIJNDAEL_SALT, type EncryptionMode, RIJNDAEL_LIMITS as LIMITS } from "./algorithms.js";
import { b64Decode, b64uEncode, isBase64Text } from "./base64.js";
import { digestRaw } from "./digest.js";

const SALTED = Buffer.from("Salted__", "latin1");
const BLOCK = LIMITS.RIJNDAEL_BLOCKSIZE;

const NODE_CIPHERS: Readonly<Record<Exclude<EncryptionMode, "Asymmetric">, string>> = {
  CBC: "aes-256-cbc",
  legacy: "aes-256-cbc",
  ECB: "aes-256-ecb",
  CFB: "aes-256-cfb",
  OFB: "aes-256-ofb",
  CTR: "aes-256-ctr",
};

/**
 * One-shot hashes, not a Hash object per block: three stream objects per authenticated packet
 * cost about 40 µs more when the caches are cold, as they are for a lone knock (bench/notes.md).
 */
const md5 = (data: Buffer): Buffer => digestRaw("md5", data);

/** OpenSSL `EVP_BytesToKey(MD5, 1 round)`: 32-byte AES key and 16-byte IV from pass and salt. */
export function deriveKeyIv(pass: Buffer, salt: Buffer): { key: Buffer; iv: Buffer } {
  const d1 = md5(Buffer.concat([pass, salt]));
  const d2 = md5(Buffer.concat([d1, pass, salt]));
  const all = Buffer.concat([d1, d2, md5(Buffer.concat([d2, pass, salt]))]);
  return { key: all.subarray(0, 32), iv: all.subarray(32, 48) };
}

/**
 * The pre-2.5 key handling of `legacy` mode: short passphrases are right-padded with ASCII '0'
 * to 16 bytes, longer ones cut to 16 (client and server both truncate before use).
 */
export function legacyPassphrase(pass: Buffer): Buffer {
  if (pass.length >= LIMITS.RIJNDAEL_MIN_KEYSIZE) return pass.subarray(0, 16);
  return Buffer.concat([pass, Buffer.alloc(16 - pass.length, 0x30)]);
}

function cipherName(mode: EncryptionMode): string | undefined {
  return mode === "Asymmetric" ? undefined : NODE_CIPHERS[mode];
}

function kdfInput(pass: Buffer, mode: EncryptionMode): Buffer {
  return mode === "legacy" ? legacyPassphrase(pass) : pass;
}

function pkcs7Pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** libfko's unpadding: strip the last v bytes only when they all equal v (0 ≤ v ≤ 16). */
function lenientUnpad(data: Buffer): Buffer {
  const v = data.at(-1);
  if (v === undefined || v > BLOCK || v > data.length) return data;
  for (let i = data.length - v; i < data.length; i++) if (data[i] !== v) return data;
  return data.subarray(0, data.length - v);
}

/**
 * Encrypts `plaintext` and returns the ciphertext text: unpadded base64 of
 * `Salted__` ‖ salt ‖ AES output, which always starts with `U2FsdGVkX1`.
 * Throws on a programming error (bad mode, salt size); key-length limits are checked by callers.
 */
export function rijndaelEncrypt(
  plaintext: Buffer,
  pass: Buffer,
  mode: EncryptionMode,
  salt: Buffer,
): string {
  const name = cipherName(mode);
  if (!name)
    throw new FwknopError(
      "FWK_ERR_INTERNAL",
      "rijndaelEncrypt: Asymmetric mode is GPG, not Rijndael",
    );
  if (salt.length !== LIMITS.SALT_LEN)
    throw new FwknopError("FWK_ERR_INTERNAL", "rijndaelEncrypt: salt must be 8 bytes");
  const { key, iv } = deriveKeyIv(kdfInput(pass, mode), salt);
  const c = createCipheriv(name, key, mode === "ECB" ? null : iv);
  c.setAutoPadding(false);
  const body = Buffer.concat([c.update(pkcs7Pad(plaintext)), c.final()]);
  return b64uEncode(Buffer.concat([SALTED, salt, body]));
}

/**
 * libfko `_rijndael_decrypt` up to (not including) field decoding: re-adds the `U2FsdGVkX1`
 * prefix when missing, decodes, decrypts with the salt found at bytes 8–15 (the `Salted__`
 * magic is not checked), unpads leniently and applies the "decryption succeeded" test
 * (16 digits then `:`). Returns the whole plaintext, which may contain NUL bytes.
 */
export function rijndaelDecrypt(text: string, pass: Buffer, mode: EncryptionMode): Result<Buffer> {
  const name = cipherName(mode);
  if (!name) return reject("FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN", "mode is Asymmetric");
  if (pass.length > LIMITS.RIJNDAEL_MAX_KEYSIZE) {
    return reject("FKO_ERROR_INVALID_KEY_LEN", `key is ${pass.length} bytes, at most 32 allowed`);
  }
  const full = withSaltPrefix(text);
  if (!full.ok) return full;
  const raw = b64Decode(full.value);
  if (!raw) return reject("FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_DECODEFAIL", "bad base64");
  if (raw.length % BLOCK !== 0) {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_VALIDFAIL",
      `ciphertext is ${raw.length} bytes, not a multiple of 16`,
    );
  }
  if (raw.length <= BLOCK) return reject("FKO_ERROR_DECRYPTION_SIZE", "no cipher blocks");
  const { key, iv } = deriveKeyIv(kdfInput(pass, mode), raw.subarray(8, 16));
  const d = createDecipheriv(name, key, mode === "ECB" ? null : iv);
  d.setAutoPadding(false);
  const pt = lenientUnpad(Buffer.concat([d.update(raw.subarray(16)), d.final()]));
  if (pt.length < raw.length - 32 || pt.length === 0) {
    return reject("FKO_ERROR_DECRYPTION_SIZE", `decrypted ${pt.length} bytes`);
  }
  if (pt.length < LIMITS.MIN_SPA_ENCODED_MSG_SIZE || pt.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE) {
    return reject(
      "FKO_ERROR_INVALID_DATA_DECODE_MSGLEN_VALIDFAIL",
      `decrypted ${pt.length} bytes, outside 36..1499`,
    );
  }
  for (let i = 0; i < LIMITS.FKO_RAND_VAL_SIZE; i++) {
    const c = pt[i] ?? 0;
    if (c < 0x30 || c > 0x39) {
      return reject("FKO_ERROR_DECRYPTION_FAILURE", "plaintext does not start with 16 digits");
    }
  }
  if (pt[LIMITS.FKO_RAND_VAL_SIZE] !== 0x3a) {
    return reject("FKO_ERROR_DECRYPTION_FAILURE", "no ':' after the 16-digit random value");
  }
  return ok(pt);
}

/** libfko `add_salted_str`: base64-only text gets `U2FsdGVkX1` in front unless already there. */
export function withSaltPrefix(text: string): Result<string> {
  const prefix = saltPrefixFor(text, isBase64Text(text));
  return prefix.ok ? ok(prefix.value + text) : prefix;
}

/**
 * What `add_salted_str` puts in front of `text`: `U2FsdGVkX1`, or nothing when the text already
 * starts with it; refused unless the text is base64 (`isBase64`, which a caller may know from an
 * earlier look). Without building the prefixed text: the HMAC check of every junk packet asks.
 */
export function saltPrefixFor(text: string, isBase64: boolean): Result<string> {
  if (!isBase64) {
    return reject("FKO_ERROR_INVALID_DATA_ENCODE_NOTBASE64", "ciphertext is not base64 text");
  }
  return text.startsWith(B64_RIJNDAEL_SALT) ? NO_PREFIX : SALT_PREFIX;
}

// Shared answers (a Result is never modified): no object per packet.
const NO_PREFIX = ok("");
const SALT_PREFIX = ok(B64_RIJNDAEL_SALT);
