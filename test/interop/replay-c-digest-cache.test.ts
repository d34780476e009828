/**
 * Our digest.cache files read by the real fwknopd 2.6.10 (`--exit-parse-digest-cache`): what we
 * append, and our IPv6 lines, which it skips while keeping its own IPv4 ones.
 */
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openFileReplayCache } from "../../src/server/replay/file-cache.js";
import { run } from "../../src/sys/run.js";
import { C_FWKNOPD, missingCBinary } from "../helpers/c-fwknop.js";
import { recorder } from "../helpers/recording-logger.js";
import { C_FIXTURE, entry, options, tempDir } from "../helpers/replay-entries.js";

/** The C daemon's own reading of a digest.cache file: its log of loading it. */
async function cDaemonParses(dir: string, path: string): Promise<string> {
  const missing = missingCBinary(C_FWKNOPD);
  if (missing) assert.fail(missing);
  writeFileSync(join(dir, "fwknopd.conf"), "ENABLE_UDP_SERVER Y;\n", { mode: 0o600 });
  writeFileSync(join(dir, "access.conf"), "SOURCE ANY\nKEY secretsecret\n", { mode: 0o600 });
  const r = await run(
    [
      C_FWKNOPD,
      "-f",
      "-c",
      join(dir, "fwknopd.conf"),
      "-a",
      join(dir, "access.conf"),
      "-d",
      path,
      "-p",
      join(dir, "fwknopd.pid"),
      "-r",
      join(dir, "run"),
      "--exit-parse-digest-cache",
      "-v",
    ],
    { timeoutMs: 20_000 },
  );
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  return out;
}

test("the C fwknopd 2.6.10 parses a file we appended to", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "digest.cache");
  copyFileSync(C_FIXTURE, path);
  const cache = await openFileReplayCache(options(path, recorder()));
  for (let i = 0; i < 3; i++) await cache.add(entry(i));
  await cache.close();
  const out = await cDaemonParses(dir, path);
  assert.match(out, /Using Digest Cache: '.*' \(entry count = 8\)/);
  assert.doesNotMatch(out, /Skipping invalid/);
});

test("IPv6 addresses: we reload our lines; the C fwknopd 2.6.10 skips them and keeps its IPv4 ones", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "digest.cache");
  const v6 = [
    { ...entry(1), srcIp: "2001:db8::2", dstIp: "::" },
    // 39 characters: longer than upstream's %16s field, so its sscanf splits the line.
    { ...entry(2), srcIp: "2001:db8:1234:5678:9abc:def0:1234:5678", dstIp: "2001:db8::1" },
    { ...entry(3), srcIp: "2001:db8::2", dstIp: "2001:db8:1234:5678:9abc:def0:1234:5678" },
  ];
  const cache = await openFileReplayCache(options(path, recorder()));
  for (const e of [entry(0), ...v6, entry(4)]) await cache.add(e);
  await cache.close();

  const again = await openFileReplayCache(options(path, recorder()));
  assert.equal(again.size, 5);
  for (const e of v6) assert.deepEqual(await again.lookup(e.digest), e);
  await again.close();

  const out = await cDaemonParses(dir, path);
  // inet_pton(AF_INET) drops the IPv6 lines; only the line whose long destination shifts the
  // sscanf fields gets upstream's "invalid entry" info line. The file itself is not rewritten.
  assert.match(out, /Using Digest Cache: '.*' \(entry count = 2\)/);
  assert.deepEqual(out.match(/Skipping invalid digest file entry in .* at line \d+/g)?.length, 1);
  const after = await openFileReplayCache(options(path, recorder()));
  assert.equal(after.size, 5);
  await after.close();
});
