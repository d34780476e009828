/**
 * The SPA wire codec (spec §3–§5): inner message ⇄ encoded text + digest ⇄ Rijndael ciphertext
 * ⇄ wire string with HMAC. Pure: random value, salt and timestamp come in as arguments.
 * Decoding never throws on hostile input; every refusal is a Rejection with a libfko code.
 */
import { digestB64 } from "../crypto/digest.js";
import { computeHmac, constantTimeEqual, hmacLength } from "../crypto/hmac.js";
import { rijndaelDecrypt, rijndaelEncrypt, withSaltPrefix } from "../crypto/rijndael.js";
import { type ErrorCode, ok, type Result, reject } from "../errors.js";
import { b64Decode, b64uEncode, cString } from "./base64.js";
import {
  B64_GPG_PREFIX,
  B64_RIJNDAEL_SALT,
  type DigestName,
  type EncryptionMode,
  hasNatField,
  hasTimeoutField,
  isMessageTypeId,
  LIMITS,
  type MessageTypeId,
} from "./constants.js";
import {
  byteView,
  cStrtol,
  validateAccessMessage,
  validateCommandMessage,
  validateNatAccess,
  validateUsername,
} from "./fields.js";

export interface SpaMessage {
  /** 16 decimal digits. */
  randomValue: string;
  username: string;
  /** Unix seconds. */
  timestamp: number;
  /** libfko always writes "3.0.0"; older clients sent other values. */
  version: string;
  messageType: MessageTypeId;
  /** `allowIP,proto/port[,…]`, or `allowIP,command` for type 0. */
  message: string;
  /** `host,port` for the NAT types. */
  natAccess?: string;
  serverAuth?: string;
  /** Seconds; promotes the type to its client-timeout variant when > 0. */
  clientTimeout?: number;
}

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

export interface DecodedSpa extends SpaMessage {
  digestType: DigestName;
  digest: string;
  /** Inner message before the digest, as received. */
  encoded: string;
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
  const n = cString(Buffer.from(text, "latin1")).length;
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
  const text = cString(Buffer.from(wire, "latin1")).toString("latin1");
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
  const received = text.slice(text.length - n);
  const body = text.slice(0, text.length - n);
  let prefixed: string;
  if (keys.encMode === "Asymmetric") {
    prefixed = body.startsWith(B64_GPG_PREFIX) ? body : B64_GPG_PREFIX + body;
  } else {
    const r = withSaltPrefix(body);
    if (!r.ok) return r;
    prefixed = r.value;
  }
  const expected = computeHmac(type, keys.hmacKey, prefixed);
  if (!constantTimeEqual(expected, received)) {
    return reject("FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", "Non-corresponding HMAC");
  }
  return ok(prefixed);
}

/**
 * Decodes a Rijndael SPA wire string with one stanza's keys: HMAC verify (constant time), re-add
 * the prefix, decrypt, decode and digest-verify. Never throws on hostile input.
 */
export function decodeSpa(wire: string, keys: SpaKeys): Result<DecodedSpa> {
  const n = cString(Buffer.from(wire, "latin1")).length;
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

/** Digest candidates by text length; SHA-256/SHA3-256 and SHA-512/SHA3-512 share lengths. */
const DIGESTS_BY_LENGTH: ReadonlyMap<number, readonly DigestName[]> = new Map([
  [22, ["md5"]],
  [27, ["sha1"]],
  [43, ["sha256", "sha3_256"]],
  [64, ["sha384"]],
  [86, ["sha512", "sha3_512"]],
]);

/** Colons counted the way libfko counts them: at most MAX_SPA_FIELDS + 2. */
function countColons(s: string): { count: number; afterLast: number } {
  let count = 0;
  let afterLast = 0;
  let from = 0;
  while (count < LIMITS.MAX_SPA_FIELDS + 2) {
    const i = s.indexOf(":", from);
    if (i < 0) break;
    count++;
    afterLast = i + 1;
    from = i + 1;
  }
  return { count, afterLast };
}

/**
 * libfko `fko_decode_spa_data` over a plaintext buffer of `pt.length` bytes (interior NULs end
 * the C string but the digest still covers the full length, as in libfko).
 */
function decodeInner(pt: Buffer): Result<DecodedSpa> {
  if (pt.length < LIMITS.MIN_SPA_ENCODED_MSG_SIZE || pt.length >= LIMITS.MAX_SPA_ENCODED_MSG_SIZE) {
    return reject("FKO_ERROR_INVALID_DATA_DECODE_MSGLEN_VALIDFAIL", `${pt.length} bytes`);
  }
  const c = cString(pt);
  for (const byte of c) {
    if (byte < 0x20 || byte > 0x7e) {
      return reject("FKO_ERROR_INVALID_DATA_DECODE_NON_ASCII", `byte 0x${byte.toString(16)}`);
    }
  }
  const s = c.toString("latin1");
  const { count, afterLast } = countColons(s);
  if (count < LIMITS.MIN_SPA_FIELDS) {
    return reject("FKO_ERROR_INVALID_DATA_DECODE_LT_MIN_FIELDS", `${count} separators`);
  }
  const digestText = s.slice(afterLast);
  const candidates = DIGESTS_BY_LENGTH.get(Math.min(digestText.length, 87));
  if (!candidates) {
    return reject("FKO_ERROR_INVALID_DIGEST_TYPE", `digest of ${digestText.length} characters`);
  }
  // libfko zeroes the separator and digest in place, then hashes pt.length - digest - 1 bytes.
  const hashed = Buffer.from(pt.subarray(0, pt.length - digestText.length - 1));
  hashed.fill(0, afterLast - 1, Math.min(hashed.length, afterLast - 1 + digestText.length));
  const digestType = candidates.find((d) => constantTimeEqual(digestB64(d, hashed), digestText));
  if (!digestType) {
    return reject("FKO_ERROR_DIGEST_VERIFICATION_FAILED", "inner digest does not match");
  }
  const fields = parseFields(s.slice(0, afterLast - 1));
  if (!fields.ok) return fields;
  return ok({
    ...fields.value,
    digestType,
    digest: digestText,
    encoded: s.slice(0, afterLast - 1),
  });
}

/** Cursor over the encoded message; reading past the end yields empty fields, as in libfko. */
class FieldCursor {
  readonly #s: string;
  pos = 0;
  constructor(s: string) {
    this.#s = s;
  }
  /** Text up to the next ':' (strcspn), without moving. */
  peek(): string {
    if (this.pos > this.#s.length) return "";
    const end = this.#s.indexOf(":", this.pos);
    return end < 0 ? this.#s.slice(this.pos) : this.#s.slice(this.pos, end);
  }
  /** Everything from the cursor to the end. */
  rest(): string {
    return this.pos > this.#s.length ? "" : this.#s.slice(this.pos);
  }
  skip(n: number): void {
    this.pos += n + 1;
  }
}

/** A base64 field decoded to the C string libfko would hold, or undefined if not base64. */
function b64Field(text: string): Buffer | undefined {
  const raw = b64Decode(text);
  return raw && cString(raw);
}

function limits(
  f: string,
  max: number,
  missing: ErrorCode,
  tooBig: ErrorCode,
  what: string,
): Result<string> {
  if (f.length < 1) return reject(missing, `${what} missing`);
  if (f.length > max) return reject(tooBig, `${what} is ${f.length} characters`);
  return ok(f);
}

type Fields = Omit<DecodedSpa, "digestType" | "digest" | "encoded">;

function parseFields(encoded: string): Result<Fields> {
  const cur = new FieldCursor(encoded);
  const E = "FKO_ERROR_INVALID_DATA_DECODE_" as const;

  const rand = cur.peek();
  if (rand.length < LIMITS.FKO_RAND_VAL_SIZE) {
    return reject(`${E}RAND_MISSING`, `random value of ${rand.length} characters`);
  }
  cur.skip(rand.length);

  const userField = limits(
    cur.peek(),
    LIMITS.MAX_SPA_USERNAME_SIZE,
    `${E}USERNAME_MISSING`,
    `${E}USERNAME_TOOBIG`,
    "username",
  );
  if (!userField.ok) return userField;
  const userRaw = b64Field(userField.value);
  if (!userRaw) return reject(`${E}USERNAME_DECODEFAIL`, "username is not base64");
  const username = userRaw.toString("latin1");
  if (!validateUsername(username).ok) {
    return reject(`${E}USERNAME_VALIDFAIL`, `invalid username ${JSON.stringify(username)}`);
  }
  cur.skip(userField.value.length);

  const tsField = limits(
    cur.peek(),
    LIMITS.MAX_SPA_TIMESTAMP_SIZE,
    `${E}TIMESTAMP_MISSING`,
    `${E}TIMESTAMP_TOOBIG`,
    "timestamp",
  );
  if (!tsField.ok) return tsField;
  const timestamp = cStrtol(tsField.value, 0, -1);
  if (timestamp === undefined) {
    return reject(`${E}TIMESTAMP_DECODEFAIL`, `timestamp ${JSON.stringify(tsField.value)}`);
  }
  cur.skip(tsField.value.length);

  const version = limits(
    cur.peek(),
    LIMITS.MAX_SPA_VERSION_SIZE,
    `${E}VERSION_MISSING`,
    `${E}VERSION_TOOBIG`,
    "version",
  );
  if (!version.ok) return version;
  cur.skip(version.value.length);

  const typeField = limits(
    cur.peek(),
    LIMITS.MAX_SPA_MESSAGE_TYPE_SIZE,
    `${E}MSGTYPE_MISSING`,
    `${E}MSGTYPE_TOOBIG`,
    "message type",
  );
  if (!typeField.ok) return typeField;
  const typeNum = cStrtol(typeField.value, 0, 6);
  if (typeNum === undefined || !isMessageTypeId(typeNum)) {
    return reject(`${E}MSGTYPE_DECODEFAIL`, `message type ${JSON.stringify(typeField.value)}`);
  }
  const type: MessageTypeId = typeNum;
  // Separators left from the type field on: type, message, then optional NAT/auth/timeout.
  const maxRemaining = type <= 1 ? 2 : type === 4 || type === 6 ? 4 : 3;
  const remaining = countColons(cur.rest()).count;
  if (remaining > maxRemaining) {
    return reject(`${E}WRONG_NUM_FIELDS`, `${remaining} separators after type ${type}`);
  }
  cur.skip(typeField.value.length);

  const msgField = limits(
    cur.peek(),
    LIMITS.MAX_SPA_MESSAGE_SIZE,
    `${E}MESSAGE_MISSING`,
    `${E}MESSAGE_TOOBIG`,
    "message",
  );
  if (!msgField.ok) return msgField;
  const msgRaw = b64Field(msgField.value);
  if (!msgRaw) return reject(`${E}MESSAGE_DECODEFAIL`, "message is not base64");
  const msgView = msgRaw.toString("latin1");
  if (type === 0) {
    const v = validateCommandMessage(msgView);
    if (!v.ok) return reject(`${E}MESSAGE_VALIDFAIL`, v.detail);
  } else {
    const v = validateAccessMessage(msgView);
    if (!v.ok) return reject(`${E}ACCESS_VALIDFAIL`, v.detail);
  }
  cur.skip(msgField.value.length);

  const out: Fields = {
    randomValue: rand.slice(0, LIMITS.FKO_RAND_VAL_SIZE),
    username,
    timestamp,
    version: version.value,
    messageType: type,
    message: msgRaw.toString("utf8"),
  };

  if (hasNatField(type)) {
    const natField = limits(
      cur.peek(),
      LIMITS.MAX_SPA_MESSAGE_SIZE,
      `${E}NATACCESS_MISSING`,
      `${E}NATACCESS_TOOBIG`,
      "NAT access",
    );
    if (!natField.ok) return natField;
    const natRaw = b64Field(natField.value);
    if (!natRaw) return reject(`${E}NATACCESS_DECODEFAIL`, "NAT access is not base64");
    const v = validateNatAccess(natRaw.toString("latin1"));
    if (!v.ok) return reject(`${E}NATACCESS_VALIDFAIL`, v.detail);
    out.natAccess = natRaw.toString("utf8");
    cur.skip(natField.value.length);
  }

  const rest = cur.rest();
  if (rest.length > LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return reject(`${E}SRVAUTH_MISSING`, `${rest.length} trailing characters`);
  }
  if (!hasTimeoutField(type)) {
    // Whatever follows is taken as server auth; garbage that happens to be base64 passes.
    if (rest.length > 0) {
      const auth = b64Field(rest);
      if (!auth) return reject(`${E}SRVAUTH_DECODEFAIL`, "server auth is not base64");
      out.serverAuth = auth.toString("utf8");
    }
    return ok(out);
  }
  if (rest.length > 0 && rest.includes(":")) {
    const authField = cur.peek();
    if (authField.length > LIMITS.MAX_SPA_MESSAGE_SIZE) {
      return reject(`${E}EXTRA_TOOBIG`, `${authField.length} characters`);
    }
    const auth = b64Field(authField);
    if (!auth) return reject(`${E}EXTRA_DECODEFAIL`, "server auth is not base64");
    out.serverAuth = auth.toString("utf8");
    cur.skip(authField.length);
  }
  const timeoutText = cur.rest();
  if (timeoutText.length < 1) return reject(`${E}TIMEOUT_MISSING`, `type ${type} needs a timeout`);
  if (timeoutText.length > LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return reject(`${E}TIMEOUT_TOOBIG`, `${timeoutText.length} characters`);
  }
  if (!/^\d+$/.test(timeoutText)) {
    return reject(`${E}TIMEOUT_VALIDFAIL`, `timeout ${JSON.stringify(timeoutText)}`);
  }
  const timeout = cStrtol(timeoutText, 0, LIMITS.MAX_CLIENT_TIMEOUT);
  if (timeout === undefined) return reject(`${E}TIMEOUT_DECODEFAIL`, `timeout ${timeoutText}`);
  out.clientTimeout = timeout;
  return ok(out);
}
