/**
 * The daemon's own path for one datagram, in process: the pipeline (precheck, source match,
 * replay digest and lookup, per-stanza HMAC) and the decision log (counting, rate-limited
 * logging), against one stanza as the benchmark daemons have it (AES + HMAC-SHA-256) and a
 * digest.cache in a temporary directory. No sockets, no namespaces, no other process: what it
 * costs per packet is deterministic enough to compare on a busy machine (bench/junk-cost.ts,
 * bench/agents/metrics-cost.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log/logger.js";
import { DecisionLog } from "../../src/server/decision-log.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { processCandidate } from "../../src/server/pipeline.js";
import { openFileReplayCache } from "../../src/server/replay/file-cache.js";
import { defaultPipelineContext } from "../../test/helpers/pipeline-context.js";
import { makeStanza } from "../../test/helpers/stanza.js";

export interface JunkPath {
  /**
   * Takes `payload` through the pipeline and the decision log, as the daemon takes a datagram:
   * synchronously unless a step of its processing waits (then the promise of its end).
   */
  one(payload: Buffer, i: number): Promise<void> | undefined;
  /** Packets by outcome so far (the decision log's counts, which the metrics export). */
  outcomes(): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export async function openJunkPath(): Promise<JunkPath> {
  const dir = mkdtempSync(join(tmpdir(), "fwk-junk-path-"));
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
    return {
      one(payload, i) {
        const c: Candidate = {
          payload,
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
      },
      outcomes: () => decisions.counts,
      async close() {
        decisions.close();
        await replay.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
