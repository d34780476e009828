/**
 * The byte-level digest.cache loader against a plain reference reading of the format (split a
 * line on blanks; a digest of 1–64 characters, proto ≤ 255, two addresses of 1–45 characters,
 * ports ≤ 65535, a time; anything after the time ignored; blank, `#` and `;` lines skipped).
 * Random files mix good lines with damaged ones, CRLF endings, odd spacing, and lines long
 * enough to cross the loader's read chunks; every digest the reference keeps must be found with
 * its fields, and nothing else.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { silentLogger } from "../../src/log/logger.js";
import { openFileReplayCache } from "../../src/server/replay/file-cache.js";
import type { ReplayEntry } from "../../src/server/replay/replay-cache.js";

const digestOf = (i: number) => createHash("sha256").update(`p${i}`).digest("base64").slice(0, 43);

/** The reference: what one line means, or undefined when it is skipped or malformed. */
function reference(line: string): ReplayEntry | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text === "" || text.startsWith("#") || text.startsWith(";")) return undefined;
  const f = text.replace(/^[ \t]+/, "").split(/[ \t]+/);
  if (f.length < 7) return undefined;
  const [digest, proto, src, srcPort, dst, dstPort, time] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const num = (s: string, max: number) => (/^\d+$/.test(s) && Number(s) <= max ? Number(s) : -1);
  const ip = (s: string) => s.length >= 1 && s.length <= 45;
  const e = {
    digest,
    proto: num(proto, 255),
    srcIp: src,
    srcPort: num(srcPort, 65535),
    dstIp: dst,
    dstPort: num(dstPort, 65535),
    time: num(time, 0xffffffff),
  };
  if (digest.length < 1 || digest.length > 64 || !ip(src) || !ip(dst)) return undefined;
  if (e.proto < 0 || e.srcPort < 0 || e.dstPort < 0 || e.time < 0) return undefined;
  return e;
}

const goodLine = fc
  .record({
    i: fc.nat(5000),
    src: fc.constantFrom("198.18.0.2", "2001:db8::7", "10.0.0.1"),
    port: fc.nat(70000),
    time: fc.integer({ min: 1_000_000_000, max: 1_900_000_000 }),
    sep: fc.constantFrom(" ", "\t", "  ", " \t"),
  })
  .map(
    (r) => `${digestOf(r.i)}${r.sep}17${r.sep}${r.src} ${r.port} 0.0.0.0 62201${r.sep}${r.time}`,
  );

const damage = fc.oneof(
  fc.constant((l: string) => l.slice(0, Math.max(0, l.length - 12))),
  fc.constant((l: string) => l.replace(" 17", " 300")),
  fc.constant((l: string) => `${l} trailing words`),
  fc.constant((l: string) => `${l}\r`),
  fc.constant((l: string) => `# ${l}`),
  fc.constant((l: string) => l.replace(/ 0\.0\.0\.0 /, ` ${"x".repeat(46)} `)),
  fc.constant((l: string) => l.replace(/^.{10}/, "short")),
  fc.constant((_: string) => ""),
);

const fileLines = fc.array(
  fc.tuple(goodLine, fc.option(damage, { freq: 3 })).map(([l, d]) => (d ? d(l) : l)),
  { maxLength: 60 },
);

test("property: the loader keeps exactly the lines a plain reading keeps, with their fields", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-load-prop-"));
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fileLines, fc.nat(3), async (lines, pad) => {
        // Padding lines push the interesting ones across the 1 MiB read chunk now and then.
        const filler = pad === 0 ? `${"#".repeat(1 << 20)}\n` : "";
        const path = join(dir, `digest-${run++}.cache`);
        writeFileSync(path, `${filler}${lines.join("\n")}\n`);
        const cache = await openFileReplayCache({ path, log: silentLogger });
        const expected = new Map<string, ReplayEntry>();
        for (const l of lines) {
          const e = reference(l);
          if (e && !expected.has(e.digest)) expected.set(e.digest, e);
        }
        assert.equal(cache.size, expected.size);
        for (const [digest, e] of expected) assert.deepEqual(await cache.lookup(digest), e);
        for (let i = 0; i < 5000; i += 499) {
          if (!expected.has(digestOf(i))) assert.equal(await cache.lookup(digestOf(i)), undefined);
        }
        await cache.close();
      }),
      { numRuns: 120 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
