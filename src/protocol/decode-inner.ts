/**
 * libfko `fko_decode_spa_data`: the inner message (after decryption) back into fields, with the
 * digest check and every field rule of spec §3.6, including libfko's C-string quirks.
 */

import { b64Decode, cString } from "../crypto/base64.js";
import { digestB64 } from "../crypto/digest.js";
import { constantTimeEqual } from "../crypto/hmac.js";
import { type ErrorCode, ok, type Result, reject } from "../errors.js";
import {
  type DigestName,
  hasNatField,
  hasTimeoutField,
  isMessageTypeId,
  LIMITS,
  type MessageTypeId,
} from "./constants.js";
import {
  cStrtol,
  validateAccessMessage,
  validateCommandMessage,
  validateNatAccess,
  validateUsername,
} from "./fields.js";
import type { DecodedSpa } from "./message.js";

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
export function decodeInner(pt: Buffer): Result<DecodedSpa> {
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
