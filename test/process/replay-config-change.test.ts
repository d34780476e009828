/**
 * A packet accepted once is never accepted again, whatever the configuration does later
 * (issue 9, item 1). Our fwknopd once dropped digests older than 2 × MAX_SPA_PACKET_AGE at start,
 * while the age check followed the configuration in force later: a restart after enough time,
 * or a SIGHUP that turned aging off, let the same packet in twice. Time passing is simulated by
 * backdating the entry in digest.cache between two runs (the file is all a restart carries over).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { replayDigest } from "../../src/protocol/spa.js";
import { makeKnock } from "../helpers/bench-knock.js";
import {
  accessStanza,
  type ConfigDir,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair, sendUdp } from "../helpers/netns.js";

const ALLOW_IP = "198.18.0.2";
const ADDED = /Added access rule to FWKNOP_INPUT for 198\.18\.0\.2 /;

/** Sends `wire` and waits for the daemon's verdict line on it (granted or replay). */
async function send(
  pair: NetnsPair,
  d: RunningDaemon,
  wire: string,
): Promise<"granted" | "replay"> {
  const since = d.output().length;
  await sendUdp(pair.client, pair.serverIp, 62201, wire);
  const line = await d.waitForLog(new RegExp(`${ADDED.source}|Replay detected`), 60_000, since);
  return ADDED.test(line) ? "granted" : "replay";
}

/** Rewrites the time of `digest`'s line, as if it had been recorded `seconds` earlier. */
function backdate(cfg: ConfigDir, digest: string, seconds: number): void {
  const text = readFileSync(cfg.digestFile, "utf8");
  const lines = text.split("\n").map((l) => {
    const f = l.split(" ");
    if (f[0] !== digest) return l;
    f[6] = String(Number(f[6]) - seconds);
    return f.join(" ");
  });
  assert.notEqual(lines.join("\n"), text, "the packet's digest must be on disk");
  writeFileSync(cfg.digestFile, lines.join("\n"));
}

function setAging(cfg: ConfigDir, aging: "Y" | "N", maxAge: number): void {
  const text = readFileSync(cfg.confFile, "utf8")
    .split("\n")
    .filter((l) => !/^(ENABLE_SPA_PACKET_AGING|MAX_SPA_PACKET_AGE)\s/.test(l));
  text.push(`ENABLE_SPA_PACKET_AGING    ${aging};`, `MAX_SPA_PACKET_AGE    ${maxAge};`, "");
  writeFileSync(cfg.confFile, text.join("\n"), { mode: 0o600 });
}

test("a packet accepted once stays refused across a restart and a SIGHUP that change packet aging", async (t) => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  const pair = await createNetnsPair("replaycfg");
  t.after(() => pair.cleanup());
  const keys = randomKeys();
  const cfg = writeConfigDir(
    { ENABLE_SPA_PACKET_AGING: "Y", MAX_SPA_PACKET_AGE: "120" },
    accessStanza(keys, { FW_ACCESS_TIMEOUT: "30" }),
  );
  const wire = makeKnock(keys, { allowIp: ALLOW_IP, port: 2222 });

  const first = await startDaemon(cfg, { netns: pair.server });
  t.after(() => first.stop("SIGKILL"));
  assert.equal(await send(pair, first, wire), "granted");
  await first.stop();

  // An hour later (far beyond 2 × 120 s) the daemon starts again, aging still on.
  backdate(cfg, replayDigest(wire), 3600);
  const second = await startDaemon(cfg, { netns: pair.server });
  t.after(() => second.stop("SIGKILL"));
  assert.equal(await send(pair, second, wire), "replay", "refused after the restart");

  // The operator turns aging off and reloads: the packet's timestamp no longer matters.
  setAging(cfg, "N", 120);
  const since = second.output().length;
  second.proc.kill("SIGHUP");
  await second.waitForLog(/Configs re-read/, 60_000, since);
  assert.equal(await send(pair, second, wire), "replay", "refused after SIGHUP with aging off");
  await second.stop();

  // And a start with aging widened to its maximum sees it as a replay too.
  setAging(cfg, "Y", 86_400);
  const third = await startDaemon(cfg, { netns: pair.server });
  t.after(() => third.stop("SIGKILL"));
  assert.equal(await send(pair, third, wire), "replay", "refused after a restart with wide aging");
  await third.stop();
});
