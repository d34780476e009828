/**
 * The SPA wire codec (spec §3–§5): inner message ⇄ encoded text + digest ⇄ Rijndael ciphertext
 * ⇄ wire string with HMAC. Pure: random value, salt and timestamp come in as arguments.
 * Decoding never throws on hostile input; every refusal is a Rejection with a libfko code.
 */

import { b64uEncode, cString, cStringText, isBase64Text } from "../crypto/base64.js";
import { digestB64 } from "../crypto/digest.js";
import { computeHmac, hmacLength, hmacMatches } from "../crypto/hmac.js";
import { rijndaelDecrypt, rijndaelEncrypt, saltPrefixFor } from "../crypto/rijndael.js";
import { ok, type Result, reject } from "../errors.js";
import {
  B64_GPG_PREFIX,
  B64_RIJNDAEL_SALT,
  type DigestName,
  type EncryptionMode,
  hasNatField,
  isMessageTypeId,
  LIMITS,
  type MessageTypeId,
} from "./constants.js";
import { decodeInner } from "./decode-inner.js";
import {
  byteView,
  validateAccessMessage,
  validateCommandMessage,
  validateNatAccess,
  validateUsername,
} from "./fields.js";
import type { DecodedSpa, SpaMessage } from "./message.js";

export type { DecodedSpa, SpaMessage } from "./message.js";

export interface SpaKeys {
  /** Rijndael passphrase bytes (KEY or decoded KEY_BASE64), at most 32. */
  encKey: Buffer;
  encMode: EncryptionMode;
  /** HMAC key bytes; without it no HMAC is added or expected. */
  hmacKey?: Buffer;
  /** Defaults to sha256 when an HMAC key is given. */
  hmacType?: DigestName;
}

export interface EncodedSpa {
  /** What goes into the datagram: ciphertext without `U2FsdGVkX1`, then the HMAC. */
  wire: string;
  /** Inner message before the digest (the `Encoded Data` dump line). */
  encoded: string;
  digest: string;
  /** Ciphertext text with its `U2FsdGVkX1` prefix (what the HMAC covers). */
  ciphertext: string;
  hmac?: string;
}

export interface EncodeOptions {
  digestType: DigestName;
  /** 8 random bytes. */
  salt: Buffer;
  /**
   * Produce packets whose wire string reaches 400 characters (§4.6): fwknopd classifies such
   * payloads as GPG and tries Rijndael only for ENABLE_CMD_EXEC stanzas, and with an HMAC libfko
   * then refuses them anyway. Only tests of that server behaviour want this.
   */
  allowUndecryptable?: boolean;
}

/** Ciphertext class by length, as libfko `fko_encryption_type` decides it (§4.6). */
export function classifyEncryption(text: string): "rijndael" | "gpg" | "unknown" {
  const n = cStringText(text).length;
  if (n < LIMITS.MIN_SPA_ENCODED_MSG_SIZE || n >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE) return "unknown";
  return n >= LIMITS.MIN_GNUPG_MSG_SIZE ? "gpg" : "rijndael";
}

/**
 * A 16-digit random value from at least 16 random bytes (the caller supplies them, keeping the
 * codec pure). 128 bits reduced modulo 10^16 leave no usable bias.
 */
export function randomValueFromBytes(bytes: Buffer): string {
  if (bytes.length < LIMITS.FKO_RAND_VAL_SIZE) {
    throw new RangeError(`randomValueFromBytes needs 16 bytes, got ${bytes.length}`);
  }
  const n = BigInt(`0x${bytes.subarray(0, 16).toString("hex")}`) % 10n ** 16n;
  return n.toString().padStart(LIMITS.FKO_RAND_VAL_SIZE, "0");
}

/** Replay-cache key: unpadded base64 SHA-256 of the exact wire string. */
export function replayDigest(wire: string): string {
  return digestB64("sha256", wire);
}

/**
 * The message type libfko actually emits: a NAT string forces a NAT type (local NAT types
 * stay), and a client timeout > 0 selects the timeout variant (0 selects the plain one).
 */
export function effectiveMessageType(msg: SpaMessage): MessageTypeId {
  let t = msg.messageType;
  const timeout = msg.clientTimeout ?? 0;
  if (msg.natAccess !== undefined && t !== 5 && t !== 6) t = timeout > 0 ? 4 : 2;
  if (t === 0) return t;
  if (timeout > 0) return t === 1 ? 3 : t === 2 ? 4 : t === 5 ? 6 : t;
  return t === 3 ? 1 : t === 4 ? 2 : t === 6 ? 5 : t;
}

function b64uText(s: string): string {
  return b64uEncode(Buffer.from(s, "utf8"));
}

function isPrintableNoColon(s: string): boolean {
  return /^[\x20-\x39\x3b-\x7e]+$/.test(s);
}

/** libfko `fko_encode_spa_data`: the inner message without its digest. */
export function encodeMessage(msg: SpaMessage): Result<string> {
  if (!/^\d{16}$/.test(msg.randomValue)) {
    return reject("FKO_ERROR_INVALID_DATA_RAND_LEN_VALIDFAIL", "random value must be 16 digits");
  }
  const user = byteView(msg.username);
  if (user.length >= LIMITS.MAX_SPA_USERNAME_SIZE) {
    return reject("FKO_ERROR_DATA_TOO_LARGE", `username is ${user.length} bytes, at most 63`);
  }
  const userOk = validateUsername(user);
  if (!userOk.ok) return userOk;
  if (!Number.isSafeInteger(msg.timestamp) || msg.timestamp < 0) {
    return reject("FKO_ERROR_INVALID_DATA_TIMESTAMP_VALIDFAIL", `timestamp ${msg.timestamp}`);
  }
  if (msg.version.length > LIMITS.MAX_SPA_VERSION_SIZE || !isPrintableNoColon(msg.version)) {
    return reject("FKO_ERROR_INVALID_DATA", `version ${JSON.stringify(msg.version)}`);
  }
  const timeout = msg.clientTimeout ?? 0;
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > 2 ** 31 - 1) {
    return reject("FKO_ERROR_INVALID_DATA_CLIENT_TIMEOUT_NEGATIVE", `client timeout ${timeout}`);
  }
  if (!isMessageTypeId(msg.messageType)) {
    return reject("FKO_ERROR_INVALID_DATA_MESSAGE_TYPE_VALIDFAIL", `type ${msg.messageType}`);
  }
  const type = effectiveMessageType(msg);

  const body = byteView(msg.message);
  if (body.length === 0) return reject("FKO_ERROR_INVALID_DATA_MESSAGE_EMPTY", "empty message");
  if (body.length >= LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return reject("FKO_ERROR_DATA_TOO_LARGE", `message is ${body.length} bytes, at most 255`);
  }
  const bodyOk = type === 0 ? validateCommandMessage(body) : validateAccessMessage(body);
  if (!bodyOk.ok) return bodyOk;

  const parts = [
    msg.randomValue,
    b64uText(msg.username),
    String(msg.timestamp),
    msg.version,
    String(type),
    b64uText(msg.message),
  ];
  if (hasNatField(type)) {
    if (msg.natAccess === undefined) {
      return reject("FKO_ERROR_INVALID_DATA_MESSAGE_NAT_MISSING", `type ${type} needs NAT access`);
    }
    const nat = byteView(msg.natAccess);
    if (nat.length >= LIMITS.MAX_SPA_NAT_ACCESS_SIZE) {
      return reject("FKO_ERROR_DATA_TOO_LARGE", `NAT access is ${nat.length} bytes, at most 127`);
    }
    const natOk = validateNatAccess(nat);
    if (!natOk.ok) return natOk;
    parts.push(b64uText(msg.natAccess));
  }
  if (msg.serverAuth !== undefined) {
    const auth = byteView(msg.serverAuth);
    if (auth.length === 0) return reject("FKO_ERROR_INVALID_DATA_SRVAUTH_MISSING", "empty");
    if (auth.length >= LIMITS.MAX_SPA_SERVER_AUTH_SIZE) {
      return reject("FKO_ERROR_DATA_TOO_LARGE", `server auth is ${auth.length} bytes, at most 63`);
    }
    parts.push(b64uText(msg.serverAuth));
  }
  if (timeout > 0 && type !== 0) parts.push(String(timeout));

  const encoded = parts.join(":");
  if (
    encoded.length < LIMITS.MIN_SPA_ENCODED_MSG_SIZE ||
    encoded.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE
  ) {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCODE_MSGLEN_VALIDFAIL",
      `encoded message is ${encoded.length} bytes, outside 36..1499`,
    );
  }
  return ok(encoded);
}

/** Builds the wire string for `msg`: encode, digest, encrypt, HMAC, drop the constant prefix. */
export function encodeSpa(msg: SpaMessage, keys: SpaKeys, opts: EncodeOptions): Result<EncodedSpa> {
  const encoded = encodeMessage(msg);
  if (!encoded.ok) return encoded;
  const digest = digestB64(opts.digestType, encoded.value);
  const sealed = sealPlaintext(Buffer.from(`${encoded.value}:${digest}`, "latin1"), keys, opts);
  if (!sealed.ok) return sealed;
  return ok({ ...sealed.value, encoded: encoded.value, digest });
}

/**
 * Encrypts an arbitrary plaintext (normally `encoded:digest`) and adds the HMAC. Exported so that
 * tests can build packets whose inner text no encoder would produce.
 */
export function sealPlaintext(
  plaintext: Buffer,
  keys: SpaKeys,
  opts: Pick<EncodeOptions, "salt" | "allowUndecryptable">,
): Result<Omit<EncodedSpa, "encoded" | "digest">> {
  if (keys.encMode === "Asymmetric") {
    return reject("FKO_ERROR_WRONG_ENCRYPTION_TYPE", "Asymmetric mode needs GPG, not Rijndael");
  }
  if (keys.encKey.length > LIMITS.RIJNDAEL_MAX_KEYSIZE) {
    return reject("FKO_ERROR_INVALID_KEY_LEN", `key is ${keys.encKey.length} bytes, at most 32`);
  }
  if (
    plaintext.length < LIMITS.MIN_SPA_ENCODED_MSG_SIZE ||
    plaintext.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE
  ) {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCRYPT_PTLEN_VALIDFAIL",
      `plaintext is ${plaintext.length} bytes, outside 36..1499`,
    );
  }
  if (keys.hmacKey && keys.hmacKey.length > LIMITS.MAX_DIGEST_BLOCK_LEN) {
    return reject("FKO_ERROR_INVALID_HMAC_KEY_LEN", `HMAC key is ${keys.hmacKey.length} bytes`);
  }
  const ciphertext = rijndaelEncrypt(plaintext, keys.encKey, keys.encMode, opts.salt);
  if (ciphertext.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE) {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCRYPT_RESULT_MSGLEN_VALIDFAIL",
      `ciphertext is ${ciphertext.length} characters`,
    );
  }
  const body = ciphertext.slice(B64_RIJNDAEL_SALT.length);
  const hmac = keys.hmacKey && computeHmac(keys.hmacType ?? "sha256", keys.hmacKey, ciphertext);
  const wire = body + (hmac ?? "");
  // With an HMAC the wire is always longer than the prefixed ciphertext, so this one test also
  // covers libfko's own check of the prefixed text.
  if (!opts.allowUndecryptable && wire.length >= LIMITS.MIN_GNUPG_MSG_SIZE) {
    return reject(
      "FWK_ERR_CODEC_RIJNDAEL_TOO_LONG",
      `SPA packet is ${wire.length} characters; fwknopd treats 400 or more as GPG`,
    );
  }
  return ok(hmac === undefined ? { wire, ciphertext } : { wire, ciphertext, hmac });
}

/**
 * libfko `fko_verify_hmac`: splits the HMAC off the end of the wire string, re-adds the constant
 * prefix (`hQ` for Asymmetric, `U2FsdGVkX1` otherwise) and compares in constant time.
 * Returns the prefixed ciphertext text. Keys without an HMAC key pass the wire through.
 */
export function verifySpaHmac(wire: string, keys: SpaKeys): Result<string> {
  const text = cStringText(wire);
  if (!keys.hmacKey) return ok(text);
  if (
    text.length < LIMITS.MIN_SPA_ENCODED_MSG_SIZE ||
    text.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE
  ) {
    return reject("FKO_ERROR_INVALID_DATA_HMAC_MSGLEN_VALIDFAIL", `${text.length} characters`);
  }
  if (keys.hmacKey.length > LIMITS.MAX_DIGEST_BLOCK_LEN) {
    return reject("FKO_ERROR_INVALID_HMAC_KEY_LEN", `HMAC key is ${keys.hmacKey.length} bytes`);
  }
  const type = keys.hmacType ?? "sha256";
  const n = hmacLength(type);
  if (text.length - n < LIMITS.MIN_SPA_ENCODED_MSG_SIZE) {
    return reject(
      "FKO_ERROR_INVALID_DATA_HMAC_ENCMSGLEN_VALIDFAIL",
      `${text.length - n} characters left without the ${n}-character HMAC`,
    );
  }
  const bodyLength = text.length - n;
  // The body is at least MIN_SPA_ENCODED_MSG_SIZE characters, so it starts with a prefix
  // exactly when the whole text does.
  let prefix: string;
  if (keys.encMode === "Asymmetric") {
    prefix = text.startsWith(B64_GPG_PREFIX) ? "" : B64_GPG_PREFIX;
  } else {
    // The whole text is usually known to be base64 (remembered from the precheck), and then
    // its body is too; otherwise the body alone must be, as libfko's salt re-adding demands.
    const salt = saltPrefixFor(text, isBase64Text(text) || isBase64Text(text.slice(0, bodyLength)));
    if (!salt.ok) return salt;
    prefix = salt.value;
  }
  if (!hmacMatches(type, keys.hmacKey, prefix, text, bodyLength)) {
    return reject("FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", "Non-corresponding HMAC");
  }
  return ok(prefix + text.slice(0, bodyLength));
}

/**
 * Decodes a Rijndael SPA wire string with one stanza's keys: HMAC verify (constant time), re-add
 * the prefix, decrypt, decode and digest-verify. Never throws on hostile input.
 */
export function decodeSpa(wire: string, keys: SpaKeys): Result<DecodedSpa> {
  const n = cStringText(wire).length;
  if (n < LIMITS.MIN_SPA_ENCODED_MSG_SIZE || n >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE) {
    return reject("FKO_ERROR_INVALID_DATA_FUNCS_NEW_MSGLEN_VALIDFAIL", `${n} characters`);
  }
  if (keys.encMode === "Asymmetric") {
    return reject("FKO_ERROR_WRONG_ENCRYPTION_TYPE", "Asymmetric mode needs the GPG decoder");
  }
  const text = verifySpaHmac(wire, keys);
  if (!text.ok) return text;
  if (classifyEncryption(text.value) !== "rijndael") {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN",
      `${text.value.length}-character ciphertext is not Rijndael by length`,
    );
  }
  const pt = rijndaelDecrypt(text.value, keys.encKey, keys.encMode);
  if (!pt.ok) return pt;
  return decodeInner(pt.value);
}

/** Decodes a decrypted plaintext taken as a C string (the GPG path: no 16-digit check). */
export function decodePlaintext(plaintext: Buffer): Result<DecodedSpa> {
  return decodeInner(cString(plaintext));
}
