import assert from "node:assert/strict";
import { test } from "node:test";
import { computeHmac } from "../../src/crypto/hmac.js";
import {
  classifyEncryption,
  decodeSpa,
  effectiveMessageType,
  encodeMessage,
  encodeSpa,
  randomValueFromBytes,
  type SpaKeys,
  type SpaMessage,
  verifySpaHmac,
} from "../../src/protocol/spa.js";

const MSG: SpaMessage = {
  randomValue: "1234567890123456",
  username: "alice",
  timestamp: 1700000000,
  version: "3.0.0",
  messageType: 1,
  message: "192.0.2.10,tcp/22",
};
const KEYS: SpaKeys = { encKey: Buffer.from("k"), encMode: "CBC" };
const OPTS = { digestType: "sha256" as const, salt: Buffer.alloc(8, 1) };

function code(r: { ok: boolean; code?: string }): string {
  return r.ok ? "ok" : (r.code ?? "");
}

test("type promotion: timeout and NAT pick the variant libfko emits", () => {
  assert.equal(effectiveMessageType({ ...MSG, clientTimeout: 30 }), 3);
  assert.equal(effectiveMessageType({ ...MSG, messageType: 3 }), 1);
  assert.equal(effectiveMessageType({ ...MSG, natAccess: "10.0.0.1,22" }), 2);
  assert.equal(effectiveMessageType({ ...MSG, natAccess: "10.0.0.1,22", clientTimeout: 5 }), 4);
  assert.equal(
    effectiveMessageType({ ...MSG, messageType: 5, natAccess: "1.1.1.1,1", clientTimeout: 5 }),
    6,
  );
  assert.equal(effectiveMessageType({ ...MSG, messageType: 6, natAccess: "1.1.1.1,1" }), 5);
  assert.equal(
    effectiveMessageType({ ...MSG, messageType: 0, message: "1.1.1.1,ls", clientTimeout: 9 }),
    0,
  );
});

test("a command message never carries the timeout", () => {
  const r = encodeMessage({ ...MSG, messageType: 0, message: "1.1.1.1,ls", clientTimeout: 9 });
  assert.ok(r.ok);
  assert.equal(r.value.split(":").length, 6);
});

test("encoder refusals", () => {
  assert.equal(
    code(encodeMessage({ ...MSG, randomValue: "123" })),
    "FKO_ERROR_INVALID_DATA_RAND_LEN_VALIDFAIL",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, username: "a".repeat(64) })),
    "FKO_ERROR_DATA_TOO_LARGE",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, username: "a:b" })),
    "FKO_ERROR_INVALID_DATA_USER_REMCHAR_VALIDFAIL",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, timestamp: -1 })),
    "FKO_ERROR_INVALID_DATA_TIMESTAMP_VALIDFAIL",
  );
  assert.equal(code(encodeMessage({ ...MSG, version: "a:b" })), "FKO_ERROR_INVALID_DATA");
  assert.equal(
    code(encodeMessage({ ...MSG, message: "" })),
    "FKO_ERROR_INVALID_DATA_MESSAGE_EMPTY",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, message: "1.2.3.4,icmp/1" })),
    "FKO_ERROR_INVALID_SPA_ACCESS_MSG",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, messageType: 5 })),
    "FKO_ERROR_INVALID_DATA_MESSAGE_NAT_MISSING",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, natAccess: "h o,1" })),
    "FKO_ERROR_INVALID_SPA_NAT_ACCESS_MSG",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, serverAuth: "" })),
    "FKO_ERROR_INVALID_DATA_SRVAUTH_MISSING",
  );
  assert.equal(
    code(encodeMessage({ ...MSG, clientTimeout: -1 })),
    "FKO_ERROR_INVALID_DATA_CLIENT_TIMEOUT_NEGATIVE",
  );
  assert.equal(
    code(encodeSpa(MSG, { ...KEYS, encKey: Buffer.alloc(33) }, OPTS)),
    "FKO_ERROR_INVALID_KEY_LEN",
  );
  assert.equal(
    code(encodeSpa(MSG, { ...KEYS, hmacKey: Buffer.alloc(137) }, OPTS)),
    "FKO_ERROR_INVALID_HMAC_KEY_LEN",
  );
  assert.equal(
    code(encodeSpa(MSG, { ...KEYS, encMode: "Asymmetric" }, OPTS)),
    "FKO_ERROR_WRONG_ENCRYPTION_TYPE",
  );
});

test("packets fwknopd would take for GPG are refused unless asked for", () => {
  const long = { ...MSG, messageType: 0 as const, message: `1.2.3.4,${"x".repeat(200)}` };
  assert.equal(code(encodeSpa(long, KEYS, OPTS)), "FWK_ERR_CODEC_RIJNDAEL_TOO_LONG");
  const r = encodeSpa(long, KEYS, { ...OPTS, allowUndecryptable: true });
  assert.ok(r.ok);
  assert.equal(classifyEncryption(r.value.ciphertext), "gpg");
  assert.equal(code(decodeSpa(r.value.wire, KEYS)), "FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN");
});

test("classifyEncryption by length: <36 unknown, <400 rijndael, <1500 gpg", () => {
  assert.equal(classifyEncryption("a".repeat(35)), "unknown");
  assert.equal(classifyEncryption("a".repeat(36)), "rijndael");
  assert.equal(classifyEncryption("a".repeat(399)), "rijndael");
  assert.equal(classifyEncryption("a".repeat(400)), "gpg");
  assert.equal(classifyEncryption("a".repeat(1499)), "gpg");
  assert.equal(classifyEncryption("a".repeat(1500)), "unknown");
});

test("decodeSpa: wire length limits, NUL truncation, Asymmetric refusal", () => {
  const r = encodeSpa(MSG, KEYS, OPTS);
  assert.ok(r.ok);
  assert.equal(code(decodeSpa("abc", KEYS)), "FKO_ERROR_INVALID_DATA_FUNCS_NEW_MSGLEN_VALIDFAIL");
  assert.equal(
    code(decodeSpa("A".repeat(1500), KEYS)),
    "FKO_ERROR_INVALID_DATA_FUNCS_NEW_MSGLEN_VALIDFAIL",
  );
  assert.equal(code(decodeSpa(`${r.value.wire}\u0000trailing`, KEYS)), "ok");
  assert.equal(
    code(decodeSpa(r.value.wire, { ...KEYS, encMode: "Asymmetric" })),
    "FKO_ERROR_WRONG_ENCRYPTION_TYPE",
  );
  assert.equal(
    code(decodeSpa(`${r.value.wire.slice(0, 50)}:${r.value.wire.slice(51)}`, KEYS)),
    "FKO_ERROR_INVALID_DATA_ENCODE_NOTBASE64",
  );
});

test("verifySpaHmac re-adds hQ for the GPG mode and returns the prefixed text", () => {
  const text = `hQ${"E".repeat(60)}`;
  const key = Buffer.from("gpg-hmac");
  const wire = text.slice(2) + computeHmac("sha512", key, text);
  const keys: SpaKeys = {
    encKey: Buffer.alloc(0),
    encMode: "Asymmetric",
    hmacKey: key,
    hmacType: "sha512",
  };
  const r = verifySpaHmac(wire, keys);
  assert.ok(r.ok);
  assert.equal(r.value, text);
  assert.equal(
    code(verifySpaHmac(`${wire.slice(0, -1)}A`, keys)),
    "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  );
  assert.equal(
    code(verifySpaHmac("A".repeat(60), { ...keys, hmacType: "sha512" })),
    "FKO_ERROR_INVALID_DATA_HMAC_ENCMSGLEN_VALIDFAIL",
  );
});

test("random values: 16 digits from 16 random bytes", () => {
  assert.equal(randomValueFromBytes(Buffer.alloc(16)), "0000000000000000");
  assert.match(randomValueFromBytes(Buffer.alloc(16, 0xff)), /^\d{16}$/);
  assert.notEqual(
    randomValueFromBytes(Buffer.alloc(16, 1)),
    randomValueFromBytes(Buffer.alloc(16, 2)),
  );
  assert.throws(() => randomValueFromBytes(Buffer.alloc(15)), RangeError);
});

test("an IPv6 allow-IP survives encode → decode (base64 keeps its colons off the separator)", () => {
  const keys = {
    encKey: Buffer.from("v6-key-0123456789"),
    encMode: "CBC" as const,
    hmacKey: Buffer.from("v6-hmac-key-0123456789"),
  };
  const msg = {
    randomValue: "1234567890123456",
    username: "alice",
    timestamp: 1_700_000_000,
    version: "3.0.0",
    messageType: 1 as const,
    message: "2001:db8::2,tcp/22",
  };
  const enc = encodeSpa(msg, keys, { digestType: "sha256", salt: Buffer.alloc(8, 7) });
  assert.ok(enc.ok, enc.ok ? "" : enc.detail);
  const dec = decodeSpa(enc.value.wire, keys);
  assert.ok(dec.ok, dec.ok ? "" : dec.detail);
  assert.equal(dec.value.message, "2001:db8::2,tcp/22");
});
