/**
 * digestB64 takes a string byte-per-character (latin1). Its fast path hashes ASCII text in one
 * call; text with other characters must still hash as latin1 bytes, never as UTF-8.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import type { DigestName } from "../../src/crypto/algorithms.js";
import { digestB64, NODE_HASH_NAMES } from "../../src/crypto/digest.js";

const reference = (name: string, s: string) =>
  createHash(name).update(Buffer.from(s, "latin1")).digest("base64").replace(/=+$/, "");

test("digestB64 of a string is the digest of its latin1 bytes, ASCII or not", () => {
  for (const type of Object.keys(NODE_HASH_NAMES) as DigestName[]) {
    for (const s of ["", "abc", "\0abc", "é\u00ff", "U2FsdGVkX1".repeat(40)]) {
      assert.equal(digestB64(type, s), reference(NODE_HASH_NAMES[type], s), `${type} ${s}`);
    }
  }
  fc.assert(
    fc.property(fc.string({ maxLength: 500 }), fc.nat(255), fc.boolean(), (a, code, wide) => {
      // Text up to U+00FF, with or without one character past ASCII.
      const s = a.replace(/[\u0080-\uffff]/g, "x") + (wide ? String.fromCharCode(code) : "");
      assert.equal(digestB64("sha256", s), reference("sha256", s));
    }),
  );
});
