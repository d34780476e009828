/**
 * Properties over hostile input: decoding arbitrary text, arbitrary plaintext bytes and mutated
 * valid packets never throws and never yields a message other than the one that was sent; with an
 * HMAC every real change to the wire string is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { digestB64 } from "../../src/crypto/digest.js";
import type { Result } from "../../src/errors.js";
import {
  type DecodedSpa,
  decodePlaintext,
  decodeSpa,
  encodeSpa,
  type SpaKeys,
} from "../../src/protocol/spa.js";
import {
  b64Text,
  encodeOptions,
  latin1Text,
  nearValidInner,
  spaKeys,
  spaMessage,
} from "./codec-arbitraries.js";

const FIXED_KEYS: SpaKeys[] = [
  { encKey: Buffer.from("fwknoptest"), encMode: "CBC" },
  { encKey: Buffer.from("fwknoptest"), encMode: "legacy" },
  { encKey: Buffer.from("k"), encMode: "CTR", hmacKey: Buffer.from("h"), hmacType: "sha256" },
  { encKey: Buffer.alloc(32, 7), encMode: "ECB", hmacKey: Buffer.alloc(136, 1), hmacType: "md5" },
];

function isRejection(r: Result<DecodedSpa>): boolean {
  return !r.ok && typeof r.code === "string" && typeof r.detail === "string";
}

test("decoding arbitrary text is always a rejection", () => {
  fc.assert(
    fc.property(
      fc.oneof(latin1Text, b64Text(0, 1600), fc.string({ maxLength: 300 })),
      fc.constantFrom(...FIXED_KEYS),
      (text, keys) => {
        assert.ok(isRejection(decodeSpa(text, keys)));
      },
    ),
    { numRuns: 60_000 },
  );
});

test("decoding arbitrary plaintext bytes never throws", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => {
      const r = decodePlaintext(Buffer.from(bytes));
      assert.ok(r.ok || isRejection(r));
    }),
    { numRuns: 20_000 },
  );
});

const nearValidPlaintext = nearValidInner.map(({ encoded, digest }) =>
  Buffer.from(`${encoded}:${digestB64(digest, encoded)}`, "latin1"),
);

test("decoding digest-correct junk plaintexts is a rejection or a well-formed message", () => {
  fc.assert(
    fc.property(nearValidPlaintext, (pt) => {
      const r = decodePlaintext(pt);
      if (!r.ok) return void assert.ok(isRejection(r));
      assert.match(r.value.randomValue, /^.{16}$/);
      assert.ok(Number.isInteger(r.value.timestamp) && r.value.timestamp >= 0);
      assert.ok(r.value.messageType >= 0 && r.value.messageType <= 6);
    }),
    { numRuns: 20_000 },
  );
});

/** Ways to damage a wire string. `forged` says whether the result differs from the original. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), extra: b64Text(1, 60) }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), extra: b64Text(1, 40) }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("prefix" as const),
    extra: fc.constantFrom("U2FsdGVkX1", "hQ", "U2Fsd"),
  }),
  fc.record({
    kind: fc.constant("junk" as const),
    extra: fc.string({ maxLength: 20 }),
    at: fc.nat(),
  }),
);

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function mutate(wire: string, m: MutationValue): string {
  const at = "at" in m ? m.at % (wire.length + 1) : 0;
  switch (m.kind) {
    case "flip": {
      const i = Math.min(at, wire.length - 1);
      const v = B64.indexOf(wire[i] ?? "A");
      const c = v < 0 ? "A" : (B64[v ^ (1 << m.bit)] ?? "A");
      return wire.slice(0, i) + c + wire.slice(i + 1);
    }
    case "truncate":
      return wire.slice(0, at);
    case "append":
      return wire + m.extra;
    case "splice":
      return wire.slice(0, at) + m.extra + wire.slice(at);
    case "swap":
      return wire.slice(at) + wire.slice(0, at);
    case "prefix":
      return m.extra + wire;
    case "junk":
      return wire.slice(0, at) + m.extra + wire.slice(at + m.extra.length);
  }
}

type MutationValue =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; extra: string }
  | { kind: "splice"; at: number; extra: string }
  | { kind: "swap"; at: number }
  | { kind: "prefix"; extra: string }
  | { kind: "junk"; extra: string; at: number };

test("mutated valid packets are refused or decode to the original message", () => {
  fc.assert(
    fc.property(spaMessage, spaKeys, encodeOptions, mutation, (msg, keys, opts, m) => {
      const enc = encodeSpa(msg, keys, opts);
      fc.pre(enc.ok);
      if (!enc.ok) return;
      const original = decodeSpa(enc.value.wire, keys);
      assert.ok(original.ok);
      const wire = mutate(enc.value.wire, m);
      const r = decodeSpa(wire, keys);
      if (r.ok) {
        // Changes libfko cannot see: unused trailing base64 bits, a re-added constant prefix,
        // a rotation by zero. The message itself can never change.
        assert.deepEqual(r.value, original.value);
        const invisible = wire === enc.value.wire || m.kind === "prefix" || !keys.hmacKey;
        assert.ok(invisible, `HMAC packet accepted after ${m.kind}: ${wire}`);
      } else {
        assert.ok(isRejection(r));
      }
    }),
    { numRuns: 60_000 },
  );
});
