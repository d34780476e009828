import assert from "node:assert/strict";
import { test } from "node:test";
import { b64Decode } from "../../src/crypto/base64.js";
import {
  deriveKeyIv,
  legacyPassphrase,
  rijndaelDecrypt,
  rijndaelEncrypt,
  withSaltPrefix,
} from "../../src/crypto/rijndael.js";
import { SYMMETRIC_MODES } from "../../src/protocol/constants.js";

const PT = Buffer.from("1234567890123456:some plaintext that is long enough:digest");
const SALT = Buffer.from("0011223344556677", "hex");

test("key derivation is OpenSSL EVP_BytesToKey(MD5, 1 round)", () => {
  // Values printed by `openssl enc -aes-256-cbc -md md5 -S 0011223344556677 -pass pass:secret -P`.
  const { key, iv } = deriveKeyIv(Buffer.from("secret"), SALT);
  assert.equal(
    key.toString("hex"),
    "6c634f48357975117b982645f825e6e69baef03eb9b45a39b409befd557eb185",
  );
  assert.equal(iv.toString("hex"), "81750ad2d4979221cb58ee61ea7e7d13");
});

test("legacy passphrases are padded with '0' or cut to 16 bytes", () => {
  assert.equal(legacyPassphrase(Buffer.from("fwknoptest")).toString(), "fwknoptest000000");
  assert.equal(legacyPassphrase(Buffer.from("0123456789abcdefXYZ")).toString(), "0123456789abcdef");
  assert.equal(legacyPassphrase(Buffer.alloc(0)).toString(), "0".repeat(16));
});

test("every mode round-trips and pads to whole blocks, framed as Salted__ ‖ salt", () => {
  for (const mode of SYMMETRIC_MODES) {
    const text = rijndaelEncrypt(PT, Buffer.from("pass"), mode, SALT);
    assert.ok(text.startsWith("U2FsdGVkX1"), mode);
    const raw = b64Decode(text);
    assert.ok(raw);
    assert.equal(raw.subarray(0, 8).toString(), "Salted__");
    assert.deepEqual(raw.subarray(8, 16), SALT);
    assert.equal((raw.length - 16) % 16, 0, mode);
    assert.ok(raw.length - 16 > PT.length, `${mode} adds PKCS#7 padding`);
    const back = rijndaelDecrypt(text, Buffer.from("pass"), mode);
    assert.ok(back.ok, mode);
    assert.deepEqual(back.value, PT);
  }
});

test("decryption refusals", () => {
  const text = rijndaelEncrypt(PT, Buffer.from("pass"), "CBC", SALT);
  const code = (r: { ok: boolean; code?: string }) => (r.ok ? "ok" : r.code);
  assert.equal(code(rijndaelDecrypt(text, Buffer.alloc(33), "CBC")), "FKO_ERROR_INVALID_KEY_LEN");
  assert.equal(
    code(rijndaelDecrypt(text, Buffer.from("wrong"), "CBC")),
    "FKO_ERROR_DECRYPTION_FAILURE",
  );
  assert.equal(
    code(rijndaelDecrypt(text, Buffer.from("pass"), "CTR")),
    "FKO_ERROR_DECRYPTION_FAILURE",
  );
  assert.equal(
    code(rijndaelDecrypt(text.slice(0, -3), Buffer.from("pass"), "CBC")),
    "FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_VALIDFAIL",
  );
  assert.equal(
    code(rijndaelDecrypt(`${text}!`, Buffer.from("pass"), "CBC")),
    "FKO_ERROR_INVALID_DATA_ENCODE_NOTBASE64",
  );
  assert.equal(
    code(rijndaelDecrypt(text, Buffer.from("pass"), "Asymmetric")),
    "FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN",
  );
});

test("the U2FsdGVkX1 prefix is re-added only when missing", () => {
  const text = rijndaelEncrypt(PT, Buffer.from("pass"), "OFB", SALT);
  assert.deepEqual(withSaltPrefix(text.slice(10)), { ok: true, value: text });
  assert.deepEqual(withSaltPrefix(text), { ok: true, value: text });
  const back = rijndaelDecrypt(text.slice(10), Buffer.from("pass"), "OFB");
  assert.ok(back.ok);
});
