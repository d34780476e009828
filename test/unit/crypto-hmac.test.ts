/**
 * computeHmac / hmacMatches build RFC 2104 on the one-shot hash (src/crypto/hmac.ts): they must
 * give exactly what OpenSSL's own HMAC gives, for every digest type, key length (around each
 * block size, where keys are padded or hashed) and message length (beyond the initial room).
 */
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import type { DigestName } from "../../src/crypto/algorithms.js";
import { DIGEST_B64_LENGTHS, NODE_HASH_NAMES } from "../../src/crypto/digest.js";
import { computeHmac, hmacMatches } from "../../src/crypto/hmac.js";
import { DIGEST_NAMES } from "../../src/protocol/constants.js";

function reference(type: DigestName, key: Buffer, data: string): string {
  const text = createHmac(NODE_HASH_NAMES[type], key).update(data, "latin1").digest("base64");
  return text.slice(0, DIGEST_B64_LENGTHS[type]);
}

const KEY_LENGTHS = [0, 1, 16, 32, 63, 64, 65, 71, 72, 73, 127, 128, 129, 135, 136, 137, 200];
const DATA_LENGTHS = [0, 1, 55, 64, 353, 1499, 2048, 5000];

test("computeHmac equals OpenSSL's HMAC for every type, key length and message length", () => {
  for (const type of DIGEST_NAMES) {
    for (const kl of KEY_LENGTHS) {
      const key = randomBytes(kl);
      for (const dl of DATA_LENGTHS) {
        const data = randomBytes(dl).toString("latin1");
        assert.equal(
          computeHmac(type, key, data),
          reference(type, key, data),
          `${type} ${kl} ${dl}`,
        );
      }
    }
  }
});

test("one key Buffer used with two digest types gets each type's HMAC", () => {
  const key = randomBytes(40);
  for (const type of ["sha256", "sha512", "sha256", "sha3_512", "md5"] as const) {
    assert.equal(computeHmac(type, key, "abc"), reference(type, key, "abc"), type);
  }
});

test("hmacMatches: prefix + body against the tag that follows the body", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DIGEST_NAMES),
      fc.uint8Array({ minLength: 0, maxLength: 150 }),
      fc.string({ minLength: 0, maxLength: 600 }),
      fc.constantFrom("", "U2FsdGVkX1", "hQ"),
      (type, keyBytes, body, prefix) => {
        const key = Buffer.from(keyBytes);
        const tag = reference(type, key, prefix + body);
        const text = body + tag;
        assert.ok(hmacMatches(type, key, prefix, text, body.length));
        // One character of the tag changed, the tag one character short or long: no match.
        const last = text.length - 1;
        const flipped = text.slice(0, last) + (text[last] === "A" ? "B" : "A");
        assert.equal(hmacMatches(type, key, prefix, flipped, body.length), false);
        assert.equal(hmacMatches(type, key, prefix, text.slice(0, last), body.length), false);
        assert.equal(hmacMatches(type, key, prefix, `${text}A`, body.length), false);
        // The prefix is part of what is authenticated.
        assert.equal(hmacMatches(type, key, `${prefix}x`, text, body.length), false);
      },
    ),
    { numRuns: 300 },
  );
});

test("one key alternating between prefixes, and between computeHmac and hmacMatches", () => {
  const key = randomBytes(32);
  const body = "A".repeat(200);
  for (const prefix of ["U2FsdGVkX1", "", "hQ", "U2FsdGVkX1", "U2FsdGVkX1", ""]) {
    const tag = reference("sha256", key, prefix + body);
    assert.ok(hmacMatches("sha256", key, prefix, body + tag, body.length), prefix);
    assert.equal(computeHmac("sha256", key, body), reference("sha256", key, body));
  }
});
