/**
 * Per-packet cost of refused junk, in process: no sockets, no namespaces, no other process, so
 * it is deterministic enough to profile on a busy machine (`node --cpu-prof`). Each shape (see
 * bench/lib/junk-shapes.ts) goes through the daemon's own path for a datagram — the pipeline
 * (precheck, source match, replay digest and lookup, per-stanza HMAC) and the decision log
 * (counting, rate-limited logging) — against one stanza as the benchmark daemons have it
 * (AES + HMAC-SHA-256) and a digest.cache in a temporary directory.
 *   node dist/bench/junk-cost.js [--packets N] [--shape NAME]
 * Prints one JSON line per shape: microseconds of main-thread CPU per packet and packets/s.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { silentLogger } from "../src/log/logger.js";
import { DecisionLog } from "../src/server/decision-log.js";
import type { Candidate } from "../src/server/intake/intake.js";
import { processCandidate } from "../src/server/pipeline.js";
import { openFileReplayCache } from "../src/server/replay/file-cache.js";
import { defaultPipelineContext } from "../test/helpers/pipeline-context.js";
import { makeStanza } from "../test/helpers/stanza.js";
import { JUNK_SHAPES, junkPool } from "./lib/junk-shapes.js";

const { values } = parseArgs({
  options: {
    packets: { type: "string", default: "200000" },
    shape: { type: "string" },
  },
});
const packets = Number(values.packets);
const dir = mkdtempSync(join(tmpdir(), "fwk-junk-cost-"));
try {
  const replay = await openFileReplayCache({
    path: join(dir, "digest.cache"),
    log: silentLogger,
  });
  const ctx = defaultPipelineContext({
    stanzas: [makeStanza({ key: randomBytes(32), hmacKey: randomBytes(64), hmacType: "sha256" })],
    replay,
  });
  const decisions = new DecisionLog({ log: silentLogger });
  for (const shape of JUNK_SHAPES.filter((s) => !values.shape || s.name === values.shape)) {
    const pool = junkPool(shape, 4096);
    // As the daemon takes a packet: synchronously unless a step of its processing waits.
    const one = (i: number): Promise<void> | undefined => {
      const c: Candidate = {
        payload: pool[i & 4095] as Buffer,
        srcIp: "198.18.0.2",
        srcPort: 40000 + (i & 1023),
        dstIp: "0.0.0.0",
        dstPort: 62201,
        proto: 17,
        receivedAt: Date.now(),
      };
      const d = processCandidate(c, ctx);
      if (d instanceof Promise) return d.then((x) => decisions.record(c, x));
      decisions.record(c, d);
      return undefined;
    };
    // Warm up the JIT, then measure.
    for (let i = 0; i < 20_000; i++) await one(i);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < packets; i++) await one(i);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const usPerPacket = (cpu.user + cpu.system) / packets;
    process.stdout.write(
      `${JSON.stringify({
        shape: shape.name,
        packets,
        usPerPacket: +usPerPacket.toFixed(2),
        packetsPerCpuSecond: Math.round(1e6 / usPerPacket),
        wallMs: Math.round(wallMs),
      })}\n`,
    );
  }
  decisions.close();
  await replay.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
