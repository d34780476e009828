/**
 * The digest cache cannot be written: the disk is full (a 8 KiB tmpfs, mounted in a private
 * mount namespace that only the daemon sees) or the file is immutable (chattr +i). Either way
 * the failure is logged, the daemon keeps granting valid knocks, and a replay is still refused
 * from memory.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { run, runChecked } from "../../src/sys/run.js";
import { grantIp, makeKnock } from "../helpers/bench-knock.js";
import { floodFromClient } from "../helpers/bench-send.js";
import {
  accessStanza,
  type ConfigDir,
  OUR_FWKNOPD,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair, sendUdp } from "../helpers/netns.js";

// Ours logs the first failure (ENOSPC, a short write, EPERM) once, then stays quiet until a write succeeds.
const WRITE_FAILED = /Could not write to digest cache/;

/** Sends one knock and waits for its grant. */
async function knockAndWait(
  pair: NetnsPair,
  d: RunningDaemon,
  wire: string,
  ip: string,
): Promise<void> {
  await sendUdp(pair.client, pair.serverIp, 62201, wire);
  await d.waitForLog(
    new RegExp(`Added access rule to FWKNOP_INPUT for ${ip.replaceAll(".", "\\.")} `),
    5000,
  );
}

/** Floods knocks until the cache write fails, then proves grants and replay checks go on. */
async function exerciseAfterWriteFailure(
  pair: NetnsPair,
  d: RunningDaemon,
  keys: { key: string; hmac: string },
  dir: string,
): Promise<void> {
  // 150 digest lines need ~15 KiB: more than the tiny disk holds.
  const wires = Array.from({ length: 150 }, (_, i) =>
    makeKnock(keys, { allowIp: grantIp(i), port: 2222 }),
  );
  await floodFromClient(pair, wires, join(dir, "flood"), 300);
  await d.waitForLog(WRITE_FAILED, 60_000);
  const wire = makeKnock(keys, { allowIp: grantIp(500), port: 2222 });
  await knockAndWait(pair, d, wire, grantIp(500));
  await sendUdp(pair.client, pair.serverIp, 62201, wire);
  await d.waitForLog(/Replay detected/, 60_000);
  assert.equal(d.proc.exitCode, null, "the daemon must still run");
}

async function setup(t: { after(fn: () => unknown): void }, tag: string) {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  const keys = randomKeys();
  const cfg = writeConfigDir({}, accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" }));
  const pair = await createNetnsPair(tag);
  t.after(() => pair.cleanup());
  return { keys, cfg, pair };
}

test("disk full: the digest.cache write error is logged and the daemon keeps serving", async (t) => {
  const { keys, cfg, pair } = await setup(t, "full");
  const tiny = join(cfg.dir, "tiny");
  mkdirSync(tiny);
  const wrapper = join(cfg.dir, "fwknopd-on-tiny-disk");
  // Re-exec in a private mount namespace, mount the tiny tmpfs there, then become fwknopd.
  writeFileSync(
    wrapper,
    [
      "#!/bin/sh",
      'if [ -z "$FWK_PRIVATE_MNT" ]; then FWK_PRIVATE_MNT=1 exec unshare -m --propagation private "$0" "$@"; fi',
      `mount -t tmpfs -o size=8k fwk-tiny '${tiny}' || exit 97`,
      `exec '${OUR_FWKNOPD}' "$@"`,
      "",
    ].join("\n"),
    { mode: 0o700 },
  );
  const onTiny: ConfigDir = { ...cfg, digestFile: join(tiny, "digest.cache") };
  const d = await startDaemon(onTiny, { netns: pair.server, binary: wrapper });
  t.after(() => d.stop());
  await exerciseAfterWriteFailure(pair, d, keys, cfg.dir);
});

test("immutable digest.cache (chattr +i) while running: logged, the daemon keeps serving", async (t) => {
  const { keys, cfg, pair } = await setup(t, "ro");
  const d = await startDaemon(cfg, { netns: pair.server });
  t.after(() => d.stop());
  t.after(() => run(["chattr", "-i", cfg.digestFile]));
  await runChecked(["chattr", "+i", cfg.digestFile]);
  await exerciseAfterWriteFailure(pair, d, keys, cfg.dir);
});

test("immutable digest.cache at start-up: a warning, then service without persistence", async (t) => {
  const { keys, cfg, pair } = await setup(t, "ro0");
  mkdirSync(cfg.runDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    cfg.digestFile,
    "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n",
  );
  t.after(() => run(["chattr", "-i", cfg.digestFile]));
  await runChecked(["chattr", "+i", cfg.digestFile]);
  const d = await startDaemon(cfg, { netns: pair.server });
  t.after(() => d.stop());
  // Upstream's wording, which both daemons log.
  assert.match(
    d.output(),
    /Error opening digest cache file\. Incoming digests will not be remembered\./,
  );
  const wire = makeKnock(keys, { allowIp: grantIp(0), port: 2222 });
  await knockAndWait(pair, d, wire, grantIp(0));
  assert.equal(d.proc.exitCode, null);
});
