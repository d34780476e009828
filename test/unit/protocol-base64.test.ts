import assert from "node:assert/strict";
import { test } from "node:test";
import { b64Decode, b64uEncode, cString, isBase64Text } from "../../src/crypto/base64.js";

test("b64uEncode drops the padding", () => {
  assert.equal(b64uEncode(Buffer.from("a")), "YQ");
  assert.equal(b64uEncode(Buffer.from("ab")), "YWI");
  assert.equal(b64uEncode(Buffer.from("abc")), "YWJj");
  assert.equal(b64uEncode(Buffer.alloc(0)), "");
});

test("b64Decode reads unpadded and padded text alike", () => {
  assert.equal(b64Decode("YWxpY2U")?.toString(), "alice");
  assert.equal(b64Decode("YWxpY2U=")?.toString(), "alice");
  assert.equal(b64Decode("")?.length, 0);
});

test("b64Decode stops at the first '=' and at NUL, ignoring what follows", () => {
  assert.equal(b64Decode("YQ==!!!")?.toString(), "a");
  assert.equal(b64Decode("YQ\u0000!!!")?.toString(), "a");
});

test("b64Decode refuses characters outside the alphabet", () => {
  for (const bad of ["YW-x", "YW_x", "YW x", "YW:x", "Y\u00e9"])
    assert.equal(b64Decode(bad), undefined);
});

test("b64Decode tolerates a lone trailing character and ignores leftover bits", () => {
  assert.equal(b64Decode("YWJjZ")?.toString(), "abc");
  // "YR" and "YQ" differ only in bits that do not complete a byte.
  assert.deepEqual(b64Decode("YR"), b64Decode("YQ"));
});

test("isBase64Text accepts the alphabet and '=' anywhere", () => {
  assert.ok(isBase64Text("AZaz09+/="));
  assert.ok(isBase64Text("ab=cd"));
  assert.ok(isBase64Text(""));
  for (const bad of ["a b", "a:b", "a-b", "a\u0000", "\u00ff"])
    assert.equal(isBase64Text(bad), false);
});

test("cString cuts at the first NUL", () => {
  assert.equal(cString(Buffer.from("ab\u0000cd")).toString(), "ab");
  assert.equal(cString(Buffer.from("abcd")).toString(), "abcd");
});
