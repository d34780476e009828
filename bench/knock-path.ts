/**
 * What a valid knock costs the daemon from its datagram to the moment its batch is handed to
 * the firewall, in process: the real Daemon (pipeline, digest.cache in a temporary directory,
 * decision log, dispatch, grant ledger, logger writing to /dev/null) with a firewall backend that
 * applies nothing and notes when its apply() is called. No sockets, no firewall tool, no other
 * process, so the figure is the daemon's own, whatever the scheduler does with the others.
 *   node dist/bench/knock-path.js [--knocks N] [--gap MS]
 * Knocks come `--gap` ms apart (default 20, as in the latency scenario: the caches are cold again
 * by then on a shared machine), each from a new allow-IP so each is a new grant; a second pass
 * sends the same number back to back for the warm figure. Prints one JSON line.
 */
import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadServerConfig } from "../src/config/server-config.js";
import { createLogger } from "../src/log/create-logger.js";
import { Daemon } from "../src/server/daemon.js";
import { GrantLedger } from "../src/server/grants.js";
import type { Candidate } from "../src/server/intake/intake.js";
import { openFileReplayCache } from "../src/server/replay/file-cache.js";
import { makeKnock } from "../test/helpers/bench-knock.js";
import { HandIntake, RecordingBackend } from "../test/helpers/daemon-doubles.js";
import { makeStanza } from "../test/helpers/stanza.js";
import { percentile } from "./lib/result.js";
import { newKeys } from "./scenarios/common.js";

const { values } = parseArgs({
  options: { knocks: { type: "string", default: "200" }, gap: { type: "string", default: "20" } },
});
const knocks = Number(values.knocks);
const gapMs = Number(values.gap);

const dir = mkdtempSync(join(tmpdir(), "fwk-knock-path-"));
try {
  const confFile = join(dir, "fwknopd.conf");
  writeFileSync(confFile, "", { mode: 0o600 });
  const config = loadServerConfig({ configFile: confFile, warn: () => {} });
  const devNull = openSync("/dev/null", "w");
  const log = createLogger({
    foreground: true,
    syslog: false,
    identity: "fwknopd",
    facility: "LOG_DAEMON",
    verbosity: 0,
    stderr: { write: (text: string) => writeSync(devNull, text) },
  });
  const keys = newKeys();
  const replay = await openFileReplayCache({ path: join(dir, "digest.cache"), log });
  const backend = new RecordingBackend();
  const ledger = new GrantLedger(backend, { log, sweepMs: 0 });
  const intake = new HandIntake();
  const daemon = new Daemon({
    config,
    stanzas: [
      makeStanza({
        key: Buffer.from(keys.key, "base64"),
        hmacKey: Buffer.from(keys.hmac, "base64"),
        hmacType: "sha256",
      }),
    ],
    log,
    intake,
    replay,
    firewall: { backend, ledger },
    testMode: false,
    packetLimit: 0,
    onLimit: () => {},
  });
  await daemon.start();

  let n = 0;
  /** One knock, built before the clock starts; ms from datagram to the firewall's apply(). */
  const one = async (): Promise<number> => {
    const i = n++;
    const allowIp = `198.18.${(i >> 8) & 255}.${i & 255}`;
    const c: Candidate = {
      payload: Buffer.from(makeKnock(keys, { allowIp, port: 2222 })),
      srcIp: "198.18.0.2",
      srcPort: 40000,
      dstIp: "0.0.0.0",
      dstPort: 62201,
      proto: 17,
      receivedAt: Date.now(),
    };
    backend.appliedAt = 0;
    const t0 = performance.now();
    await intake.feed(c);
    if (backend.appliedAt === 0) throw new Error(`knock ${i} was not granted`);
    return backend.appliedAt - t0;
  };
  const cold: number[] = [];
  for (let i = 0; i < knocks; i++) {
    await sleep(gapMs);
    cold.push(await one());
  }
  const warm: number[] = [];
  for (let i = 0; i < knocks; i++) warm.push(await one());
  /** p10/p50/p90 in ms. */
  const spread = (a: number[]) => {
    a.sort((x, y) => x - y);
    const ms = (p: number) => +percentile(a, p).toFixed(3);
    return { p10: ms(10), p50: ms(50), p90: ms(90) };
  };
  process.stdout.write(
    `${JSON.stringify({ knocks, gapMs, coldMs: spread(cold), warmMs: spread(warm) })}\n`,
  );
  await daemon.stop();
  await ledger.stop();
  await replay.close();
  await log.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
