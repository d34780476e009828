/**
 * The loaded rows of a digest.cache keep only an 8-byte key, the time and the line's offset;
 * everything else is read back from the file. These tests pin what that must never change:
 * exact matches only, entries as the file wrote them, and refusal when the file is gone.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { silentLogger } from "../../src/log/logger.js";
import { DIGEST_FILE_HEADER, openFileReplayCache } from "../../src/server/replay/file-cache.js";

const NOW = 1_795_771_500;

function cacheFile(t: TestContext, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fwk-rows-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "digest.cache");
  writeFileSync(path, DIGEST_FILE_HEADER + body);
  return path;
}

const digestOf = (s: string | number) =>
  createHash("sha256").update(String(s)).digest("base64").slice(0, 43);

/** A canonical digest text that shares its first 30 characters (its 8-byte key and more) with `d`. */
function sameKey(d: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const c = d[30] ?? "A";
  return `${d.slice(0, 30)}${alphabet[(alphabet.indexOf(c) + 1) % 64]}${d.slice(31)}`;
}

const open = (path: string) => openFileReplayCache({ path, log: silentLogger });

test("two digests with the same 8-byte key are both kept and each finds its own line", async (t) => {
  const a = digestOf("a");
  const b = sameKey(a);
  const path = cacheFile(
    t,
    `${a} 17 198.18.0.1 1000 0.0.0.0 62201 ${NOW - 5}\n${b} 6 2001:db8::7 2000 198.18.0.9 443 ${NOW - 4}\n`,
  );
  const cache = await open(path);
  assert.equal(cache.size, 2);
  assert.deepEqual(await cache.lookup(a), {
    digest: a,
    proto: 17,
    srcIp: "198.18.0.1",
    srcPort: 1000,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    time: NOW - 5,
  });
  assert.equal((await cache.lookup(b))?.srcIp, "2001:db8::7");
  assert.equal(await cache.lookup(sameKey(b)), undefined, "same key, no such line");
  await cache.close();
});

test("a digest repeated in the file is one entry, the first line's", async (t) => {
  const a = digestOf(1);
  const path = cacheFile(
    t,
    `${a} 17 198.18.0.1 1 0.0.0.0 62201 ${NOW - 9}\n${digestOf(2)} 17 198.18.0.2 2 0.0.0.0 62201 ${NOW}\n${a} 17 198.18.0.3 3 0.0.0.0 62201 ${NOW - 1}\n`,
  );
  const cache = await open(path);
  assert.equal(cache.size, 2);
  const first = await cache.lookup(a);
  assert.equal(first?.srcIp, "198.18.0.1");
  if (first) await cache.add({ ...first, srcIp: "192.0.2.1" });
  assert.equal(cache.size, 2, "a loaded digest is not added again");
  await cache.close();
});

test("lines longer than the read chunk and CRLF files load like the rest", async (t) => {
  const lines = Array.from(
    { length: 30_000 },
    (_, i) =>
      `${digestOf(i)} 17 198.18.${(i >> 8) & 255}.${i & 255} ${i} 0.0.0.0 62201 ${NOW - i}\r\n`,
  );
  const path = cacheFile(t, lines.join(""));
  const cache = await open(path);
  assert.equal(cache.size, 30_000);
  for (const i of [0, 11_111, 29_999]) {
    assert.equal((await cache.lookup(digestOf(i)))?.srcPort, i);
  }
  await cache.close();
});

test("a loaded digest still counts as seen when its file is truncated under the daemon", async (t) => {
  const a = digestOf("gone");
  const path = cacheFile(t, `${a} 17 198.18.0.1 1 0.0.0.0 62201 ${NOW - 3}\n`);
  const cache = await open(path);
  truncateSync(path, 0);
  const seen = await cache.lookup(a);
  assert.ok(seen, "refused, not forgotten");
  assert.equal(seen.time, NOW - 3);
  await cache.close();
});

test("claim refuses a digest that was loaded from the file", async (t) => {
  const a = digestOf("loaded");
  const path = cacheFile(t, `${a} 17 198.18.0.1 1 0.0.0.0 62201 ${NOW - 3}\n`);
  const cache = await open(path);
  const seen = await cache.claim({
    digest: a,
    proto: 17,
    srcIp: "198.18.0.5",
    srcPort: 5,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    time: NOW,
  });
  assert.equal(seen?.srcIp, "198.18.0.1", "the original entry, so the packet is a replay");
  assert.equal(cache.size, 1);
  await cache.close();
});
