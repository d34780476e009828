/**
 * The loader's fast line path (scanCanonicalLine) against the full parser (scanLine): every line
 * the fast path takes, scanLine accepts with the same end, key and time; lines it declines are
 * left to scanLine, which still accepts the well-formed ones.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { FIELD } from "../../src/server/replay/digest-table.js";
import {
  CANONICAL_LINE_MAX,
  lineDigest,
  lineFields,
  lineText,
  scanCanonicalLine,
  scanLine,
} from "../../src/server/replay/file-line.js";

const DIGEST = randomBytes(32).toString("base64").slice(0, 43);
/** Room after the line, so the fast path never declines a line for being near the buffer end. */
const PAD = "\n".repeat(CANONICAL_LINE_MAX);

function both(line: string): { fast: number; full: number; fastKey: number[]; fastTime: number } {
  const b = Buffer.from(line + PAD, "latin1");
  const fast = scanCanonicalLine(b, 0, b.length);
  const fastKey = [...lineDigest];
  const fastTime = lineFields[FIELD.time] as number;
  const full = scanLine(b, 0, b.length, false);
  return { fast, full, fastKey, fastTime };
}

test("the line every writer produces takes the fast path with scanLine's end, key and time", () => {
  const line = `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 4294967295\n`;
  const r = both(line);
  assert.equal(r.fast, line.length - 1);
  assert.equal(r.full, r.fast);
  assert.ok(lineText.keyed);
  assert.deepEqual(r.fastKey, [...lineDigest]);
  assert.equal(r.fastTime, 4294967295);
  const v6 = `${DIGEST} 6 2001:db8::1 65535 2001:db8:0:0:0:0:0:ffff 1 0\n`;
  assert.equal(both(v6).fast, v6.length - 1);
});

test("other well-formed shapes go to scanLine; malformed ones are refused by both", () => {
  for (const line of [
    `${DIGEST}\t17 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`,
    `${DIGEST}  17 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`,
    ` ${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`,
    `${DIGEST} 0017 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`,
    `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 1700000000\r\n`,
    `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 1700000000 trailing words\n`,
    `${DIGEST} 17 192.0.2.10 040000 0.0.0.0 62201 1700000000\n`,
  ]) {
    const r = both(line);
    assert.equal(r.fast, -1, line);
    assert.ok(r.full > 0, line);
  }
  for (const line of [
    `${DIGEST} 256 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`,
    `${DIGEST} 17 192.0.2.10 65536 0.0.0.0 62201 1700000000\n`,
    `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 65536 1700000000\n`,
    `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 4294967296\n`,
    `${DIGEST} 17 ${"a".repeat(46)} 40000 0.0.0.0 62201 1700000000\n`,
    `${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201\n`,
  ]) {
    const r = both(line);
    assert.deepEqual([r.fast, r.full], [-1, -1], line);
  }
  const short = Buffer.from(`${DIGEST} 17 192.0.2.10 40000 0.0.0.0 62201 1700000000\n`);
  assert.equal(scanCanonicalLine(short, 0, short.length), -1, "too near the buffer end");
});

test("property: whatever the fast path takes, scanLine accepts with the same end, key and time", () => {
  // A well-formed line with up to three of its parts replaced by odd ones.
  const good = [
    DIGEST,
    " ",
    "17",
    " ",
    "192.0.2.1",
    " ",
    "40000",
    " ",
    "0.0.0.0",
    " ",
    "62201",
    " ",
  ];
  const odd = fc.oneof(
    fc.constantFrom(" ", "  ", "\t", "", "0", "00", "255", "256", "65535", "65536", "4294967295"),
    fc.constantFrom("4294967296", "00000000001", "12345678901", "1x", "-1", "2001:db8::1"),
    fc.constantFrom("a".repeat(45), "a".repeat(46), `${DIGEST}A`, DIGEST.slice(1), "\r"),
    fc.nat(42).map((i) => `${DIGEST.slice(0, i)}*${DIGEST.slice(i + 1)}`),
    fc.nat(70000).map(String),
    fc.string({ maxLength: 50 }),
  );
  const time = fc.oneof(fc.nat(0xffffffff).map(String), odd);
  const ending = fc.constantFrom("\n", "\n", "\r\n", " x\n", "\r", "x\n", "");
  let taken = 0;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), odd), { maxLength: 3 }),
      time,
      ending,
      (changes, t, end) => {
        const parts = [...good];
        for (const [i, part] of changes) parts[i] = part;
        const line = parts.join("") + t + end;
        const r = both(line);
        if (r.fast < 0) return;
        taken++;
        assert.equal(r.full, r.fast, JSON.stringify(line));
        assert.ok(lineText.keyed);
        assert.deepEqual(r.fastKey, [...lineDigest]);
        assert.equal(r.fastTime, lineFields[FIELD.time]);
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(taken > 100, "the generator reaches the fast path");
});
