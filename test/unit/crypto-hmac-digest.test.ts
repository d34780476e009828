import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DIGEST_B64_LENGTHS,
  DIGEST_RAW_LENGTHS,
  digestB64,
  digestRaw,
} from "../../src/crypto/digest.js";
import { computeHmac, constantTimeEqual, hmacLength } from "../../src/crypto/hmac.js";
import { DIGEST_NAMES } from "../../src/protocol/constants.js";

test("digest length tables match the algorithms", () => {
  for (const d of DIGEST_NAMES) {
    assert.equal(digestRaw(d, "x").length, DIGEST_RAW_LENGTHS[d], d);
    assert.equal(digestB64(d, "x").length, DIGEST_B64_LENGTHS[d], d);
    assert.equal(hmacLength(d), DIGEST_B64_LENGTHS[d], d);
  }
});

test("SHA3 is FIPS-202 SHA-3, not pre-standard Keccak", () => {
  assert.equal(
    digestRaw("sha3_256", "").toString("hex"),
    "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
  );
});

test("HMAC is RFC 2104 (RFC 4231 test case 2), printed as unpadded base64", () => {
  const mac = computeHmac("sha256", Buffer.from("Jefe"), "what do ya want for nothing?");
  assert.equal(
    Buffer.from(mac, "base64").toString("hex"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assert.ok(!mac.includes("="));
});

test("constantTimeEqual compares over the expected length", () => {
  assert.ok(constantTimeEqual("abc", "abc"));
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "ab"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
});
