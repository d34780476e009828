import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import {
  DigestTable,
  decodeDigest,
  decodeDigestKey,
} from "../../src/server/replay/digest-table.js";

const digestOf = (i: number) =>
  createHash("sha256").update(String(i)).digest("base64").slice(0, 43);

test("decodeDigest accepts exactly the canonical unpadded base64 of 32 bytes", () => {
  const raw = createHash("sha256").update("x").digest();
  const text = raw.toString("base64").slice(0, 43);
  const out = new Uint8Array(32);
  assert.equal(decodeDigest(Buffer.from(text), 0, out), true);
  assert.deepEqual(Buffer.from(out), raw);
  // Same bytes, but the two spare bits set: would not round-trip.
  const last = text.at(-1) ?? "A";
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const bumped = text.slice(0, 42) + alphabet[alphabet.indexOf(last) + 1];
  assert.equal(decodeDigest(Buffer.from(bumped), 0, out), false);
  assert.equal(decodeDigest(Buffer.from(`${text.slice(0, 42)}-`), 0, out), false);
  assert.equal(decodeDigest(Buffer.from(text.slice(0, 42)), 0, out), false);
});

test("insert, find and entry round-trip through growth", () => {
  const t = new DigestTable(16);
  for (let i = 0; i < 5000; i++) {
    assert.equal(
      t.insert(digestOf(i), 17, `10.0.${i >> 8}.${i & 255}`, i, "0.0.0.0", 62201, i),
      true,
    );
  }
  assert.equal(t.size, 5000);
  for (const i of [0, 1, 777, 4999]) {
    const row = t.find(digestOf(i));
    assert.ok(row >= 0);
    assert.deepEqual(t.entry(row), {
      digest: digestOf(i),
      proto: 17,
      srcIp: `10.0.${i >> 8}.${i & 255}`,
      srcPort: i,
      dstIp: "0.0.0.0",
      dstPort: 62201,
      time: i,
    });
  }
  assert.equal(t.find(digestOf(5000)), -1);
  assert.equal(t.insert(digestOf(42), 6, "1.2.3.4", 1, "5.6.7.8", 2, 3), false, "duplicate");
});

test("odd digests and non-dotted-quad addresses are kept verbatim", () => {
  const t = new DigestTable(16);
  assert.equal(t.insert("shortMD5ish", 17, "2001:db8::1", 5, "010.0.0.1", 6, 7), true);
  assert.equal(t.insert("shortMD5ish", 17, "1.1.1.1", 5, "2.2.2.2", 6, 7), false);
  const row = t.find("shortMD5ish");
  assert.deepEqual(t.entry(row), {
    digest: "shortMD5ish",
    proto: 17,
    srcIp: "2001:db8::1",
    srcPort: 5,
    dstIp: "010.0.0.1",
    dstPort: 6,
    time: 7,
  });
});

test("bulk load builds the index afterwards and drops duplicate rows, keeping the first", () => {
  const t = new DigestTable(4);
  t.beginBulk();
  const scratchInsert = (i: number, time: number) => {
    decodeDigest(Buffer.from(digestOf(i)), 0, t.scratch);
    t.staged.set([17, 1, 1, 0, 62201, time]);
    t.insertStaged();
  };
  for (let i = 0; i < 3000; i++) scratchInsert(i, 100 + i);
  scratchInsert(10, 9999);
  scratchInsert(2999, 9999);
  assert.equal(t.finishBulk(), 2, "growing during the bulk load (capacity 4) loses nothing");
  assert.equal(t.size, 3000);
  assert.equal(t.entry(t.find(digestOf(10))).time, 110);
  assert.equal(t.entry(t.find(digestOf(2999))).time, 3099);
});

test("property: the table agrees with a Map model through inserts and growth", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), key: fc.nat(300), time: fc.nat(100) }),
    fc.record({ kind: fc.constant("odd" as const), key: fc.nat(20), time: fc.nat(100) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.boolean(), (ops, bulkFirst) => {
      const t = new DigestTable(16);
      const model = new Map<string, number>();
      if (bulkFirst) {
        t.beginBulk();
        for (let i = 0; i < 50; i++) {
          decodeDigest(Buffer.from(digestOf(i % 40)), 0, t.scratch);
          t.staged.set([17, 1, 2, 3, 4, i]);
          t.insertStaged();
          if (!model.has(digestOf(i % 40))) model.set(digestOf(i % 40), i);
        }
        t.finishBulk();
      }
      for (const o of ops) {
        const digest = o.kind === "add" ? digestOf(o.key) : `odd-${o.key}`;
        const added = t.insert(digest, 17, "192.0.2.1", 1, "::1", 2, o.time);
        assert.equal(added, !model.has(digest));
        if (added) model.set(digest, o.time);
      }
      assert.equal(t.size, model.size);
      for (const [k, v] of model) assert.equal(t.entry(t.find(k)).time, v);
      for (let i = 0; i < 300; i += 37) {
        if (!model.has(digestOf(i))) assert.equal(t.find(digestOf(i)), -1);
      }
    }),
    { numRuns: 150 },
  );
});

test("property: decodeDigestKey keys on the first 12 characters, as decodeDigest decodes them", () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const text = fc.oneof(
    fc.nat(100_000).map(digestOf),
    fc
      .tuple(fc.nat(100_000), fc.nat(42), fc.constantFrom(" ", "-", "=", "\n", "A", "z"))
      .map(([i, at, c]) => digestOf(i).slice(0, at) + c + digestOf(i).slice(at + 1)),
    fc.tuple(fc.nat(100_000), fc.nat(63)).map(([i, v]) => digestOf(i).slice(0, 42) + alphabet[v]),
  );
  fc.assert(
    fc.property(text, (t) => {
      const full = new Uint8Array(32);
      const key = new Uint8Array(16);
      const src = Buffer.from(t, "latin1");
      const keyed = decodeDigestKey(src, 0, key);
      assert.equal(
        keyed,
        [...t.slice(0, 12)].every((c) => alphabet.includes(c)),
      );
      if (decodeDigest(src, 0, full)) {
        assert.ok(keyed, "every canonical digest has a key");
        assert.deepEqual(key.subarray(0, 8), full.subarray(0, 8));
      }
    }),
    { numRuns: 500 },
  );
});
