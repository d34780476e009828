import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DIGEST_FILE_HEADER, openFileReplayCache } from "../../src/server/replay/file-cache.js";
import { replayDetectedMessage } from "../../src/server/replay/replay-cache.js";
import { run } from "../../src/sys/run.js";
import { recorder } from "../helpers/recording-logger.js";
import { C_FIXTURE, digestOf, entry, line, options, tempDir } from "../helpers/replay-entries.js";

/** The wire string of that file's first entry (fwknop --save-packet), replayed to the C daemon. */
const C_PACKET = fileURLToPath(
  new URL("../../../test/vectors/digest-cache-c2610-packet.txt", import.meta.url),
);

test("a missing file is created 0600 with the upstream header; adds append upstream lines", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(readFileSync(path, "utf8"), DIGEST_FILE_HEADER);
  assert.ok(log.lines.includes(`info: Using Digest Cache: '${path}' (entry count = 0)`));
  await cache.add(entry(1));
  await cache.add(entry(2));
  await cache.add(entry(1)); // already known: not written twice
  assert.equal(cache.size, 2);
  assert.deepEqual(await cache.lookup(entry(2).digest), entry(2));
  assert.equal(await cache.lookup(digestOf("nope")), undefined);
  await cache.close();
  assert.equal(readFileSync(path, "utf8"), DIGEST_FILE_HEADER + line(entry(1)) + line(entry(2)));

  const again = await openFileReplayCache(options(path, recorder()));
  assert.equal(again.size, 2);
  assert.deepEqual(await again.lookup(entry(1).digest), entry(1));
  await again.close();
});

test("claim is check-and-insert: of two claims of one digest at once, exactly one records it", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  const cache = await openFileReplayCache(options(path, recorder()));
  const later = { ...entry(3), srcIp: "198.18.9.9" };
  const [a, b] = await Promise.all([cache.claim(entry(3)), cache.claim(later)]);
  assert.equal(a, undefined);
  assert.deepEqual(b, entry(3));
  assert.equal(cache.size, 1);
  await cache.close();
  assert.equal(readFileSync(path, "utf8"), DIGEST_FILE_HEADER + line(entry(3)));
});

test("reads the digest.cache written by the C fwknopd 2.6.10", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  copyFileSync(C_FIXTURE, path);
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  assert.equal(cache.size, 5);
  assert.deepEqual(await cache.lookup("MXwnPAUhc2PQkKqmelakAmrKwukWZbkwU1ZfZCwdWe4"), {
    digest: "MXwnPAUhc2PQkKqmelakAmrKwukWZbkwU1ZfZCwdWe4",
    proto: 17,
    srcIp: "198.18.0.2",
    srcPort: 36756,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    time: 1795771298,
  });
  assert.ok((await cache.lookup("/fuFmp5tV7pz126nPkGSOaIndsdAx0tFARK1kLMUm+4")) !== undefined);
  assert.deepEqual(
    log.lines.filter((l) => !l.startsWith("info: Using Digest Cache")),
    [],
  );
  await cache.close();
});

test("a packet the C daemon recorded is found by its replay digest; the log line matches upstream's", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  copyFileSync(C_FIXTURE, path);
  const cache = await openFileReplayCache(options(path, recorder()));
  const wire = readFileSync(C_PACKET, "latin1");
  const digest = createHash("sha256").update(wire).digest("base64").replace(/=+$/, "");
  const original = await cache.lookup(digest);
  assert.ok(original, "the replayed packet's digest is in the C-written cache");
  const tz = process.env.TZ;
  process.env.TZ = "UTC";
  t.after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });
  // What fwknopd 2.6.10 (TZ=UTC) logged when this packet was sent to it a second time.
  assert.equal(
    replayDetectedMessage({ srcIp: "198.18.0.2", proto: 17, dstPort: 62201 }, original),
    "Replay detected from source IP: 198.18.0.2, Destination proto/port: 17/62201, " +
      "Original source IP: 198.18.0.2, Original dst proto/port: 17/62201, " +
      "Entry created: 11/27/26 09:21:38",
  );
  await cache.close();
});

test("a torn last line is skipped with a log line and the next append starts a new line", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  writeFileSync(
    path,
    `${DIGEST_FILE_HEADER}${line(entry(1))}${line(entry(2))}${digestOf(3)} 17 198.1`,
  );
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  assert.equal(cache.size, 2);
  assert.ok(
    log.lines.some((l) =>
      l.startsWith(`info: *Skipping torn last digest file entry in ${path} at line 4`),
    ),
    log.lines.join("\n"),
  );
  await cache.add(entry(4));
  await cache.close();
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith(`198.1\n${line(entry(4))}`), text);

  const log2 = recorder();
  const again = await openFileReplayCache(options(path, log2));
  assert.equal(again.size, 3);
  assert.equal(log2.lines.filter((l) => l.includes("torn")).length, 0);
  await again.close();
});

test("a torn last line that still parses is kept (its digest was granted)", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  const torn = line(entry(7)).slice(0, -3);
  writeFileSync(path, DIGEST_FILE_HEADER + torn);
  const cache = await openFileReplayCache(options(path, recorder()));
  assert.equal(cache.size, 1);
  await cache.add(entry(8));
  await cache.close();
  assert.equal(readFileSync(path, "utf8"), `${DIGEST_FILE_HEADER}${torn}\n${line(entry(8))}`);
});

test("malformed lines are skipped with the upstream info message; blank and # lines silently", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  writeFileSync(
    path,
    [
      DIGEST_FILE_HEADER.trimEnd(),
      line(entry(1)).trimEnd(),
      "garbage line here",
      "",
      "# a comment",
      `${digestOf(2)} 17 1.2.3.4`,
      `${digestOf(3)} 300 1.2.3.4 1 0.0.0.0 2 3`,
      `${digestOf(4)} 17 1.2.3.4 70000 0.0.0.0 2 3`,
      `${"x".repeat(65)} 17 1.2.3.4 1 0.0.0.0 2 3`,
      `${digestOf(5)}\t17  198.18.0.9 1 0.0.0.0 2 1795771400 trailing`,
      "",
    ].join("\n"),
  );
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  assert.equal(cache.size, 2);
  assert.equal((await cache.lookup(digestOf(5)))?.srcIp, "198.18.0.9");
  const skipped = log.lines.filter((l) => l.includes("Skipping invalid digest file entry"));
  assert.deepEqual(
    skipped.map((l) => l.split("\n")[0]),
    [3, 6, 7, 8, 9].map(
      (n) => `info: *Skipping invalid digest file entry in ${path} at line ${n}.`,
    ),
  );
  assert.equal(
    skipped[0],
    `info: *Skipping invalid digest file entry in ${path} at line 3.\n - garbage line here`,
  );
  await cache.close();
});

test("--rotate-digest-cache renames the file to <name>-old and starts fresh", async (t) => {
  const path = join(tempDir(t), "digest.cache");
  copyFileSync(C_FIXTURE, path);
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log, { rotate: true }));
  assert.equal(cache.size, 0);
  assert.ok(log.lines.includes("info: Rotating digest cache file."));
  assert.equal(readFileSync(`${path}-old`, "utf8"), readFileSync(C_FIXTURE, "utf8"));
  assert.equal(readFileSync(path, "utf8"), DIGEST_FILE_HEADER);
  await cache.close();
});

test("an unusable path turns persistence off with the upstream warning; memory still protects", async (t) => {
  const dir = tempDir(t);
  for (const path of [join(dir, "no-such-dir", "digest.cache"), dir]) {
    const log = recorder();
    const cache = await openFileReplayCache(options(path, log));
    assert.equal(cache.persistent, false);
    assert.ok(
      log.lines.includes(
        "warn: Error opening digest cache file. Incoming digests will not be remembered.",
      ),
      log.lines.join("\n"),
    );
    await cache.add(entry(1));
    assert.deepEqual(await cache.lookup(entry(1).digest), entry(1));
    await cache.close();
  }
});

test("no entry is ever dropped for its age: an old digest is still a replay after a restart", async (t) => {
  // A packet accepted years ago must stay refused whatever MAX_SPA_PACKET_AGE or
  // ENABLE_SPA_PACKET_AGING say at the next start (issue 9, item 1).
  const dir = tempDir(t);
  const path = join(dir, "digest.cache");
  const ancient = Array.from({ length: 1500 }, (_, i) => line(entry(i, 1_000_000 + i)));
  writeFileSync(path, DIGEST_FILE_HEADER + ancient.join(""));
  const cache = await openFileReplayCache(options(path, recorder()));
  assert.equal(cache.size, 1500);
  assert.deepEqual(await cache.lookup(entry(0).digest), entry(0, 1_000_000));
  await cache.add(entry(5000));
  await cache.close();
  const text = readFileSync(path, "utf8");
  assert.ok(text.startsWith(DIGEST_FILE_HEADER + ancient.join("")), "nothing rewritten");
  assert.ok(text.endsWith(line(entry(5000))));
  assert.deepEqual(readdirSync(dir), ["digest.cache"], "no temporary files");
});

/** A small tmpfs we can fill up or make read-only (root only); unmounted after the test. */
async function smallMount(t: TestContext, size = "64k"): Promise<string> {
  if (process.getuid?.() !== 0) assert.fail(`this test needs root (it mounts a ${size} tmpfs)`);
  const mnt = mkdtempSync(join(tmpdir(), "fwk-replay-mnt-"));
  const opts = `size=${size},mode=0700`;
  const r = await run(["mount", "-t", "tmpfs", "-o", opts, "fwk-replay-test", mnt]);
  if (r.code !== 0) assert.fail(`cannot mount a tmpfs: ${r.stderr}`);
  t.after(async () => {
    await run(["umount", "-l", mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return mnt;
}

test("append failures (disk full) are logged once and the service continues", async (t) => {
  const mnt = await smallMount(t);
  const path = join(mnt, "digest.cache");
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  for (let i = 0; i < 1200; i++) await cache.add(entry(i));
  assert.equal(cache.size, 1200);
  assert.ok((await cache.lookup(entry(1199).digest)) !== undefined);
  const errors = log.lines.filter((l) => l.startsWith("error: Could not write to digest cache"));
  assert.equal(errors.length, 1, log.lines.join("\n"));
  assert.match(errors[0] ?? "", /ENOSPC|short write/);
  await cache.close();
});

test("a read-only file is loaded but persistence is off with the upstream warning", async (t) => {
  const mnt = await smallMount(t);
  const path = join(mnt, "digest.cache");
  copyFileSync(C_FIXTURE, path);
  const r = await run(["mount", "-o", "remount,ro", mnt]);
  if (r.code !== 0) assert.fail(`cannot remount read-only: ${r.stderr}`);
  const log = recorder();
  const cache = await openFileReplayCache(options(path, log));
  assert.equal(cache.size, 5);
  assert.equal(cache.persistent, false);
  assert.ok(log.lines.some((l) => l.startsWith(`error: Could not open digest cache: ${path}:`)));
  assert.ok(
    log.lines.includes(
      "warn: Error opening digest cache file. Incoming digests will not be remembered.",
    ),
  );
  await cache.add(entry(1));
  assert.ok((await cache.lookup(entry(1).digest)) !== undefined);
  await cache.close();
});
