/**
 * Scenario 1, zero-loss grant throughput: bursts of distinct valid knocks (one allow-IP each)
 * at rising rates; a rate passes when every knock of its burst was granted. Each step gets a
 * fresh network and daemon so chain length and replay cache start empty every time.
 */

import type { BenchKeys } from "../../test/helpers/bench-knock.js";
import { type DaemonKind, startBenchDaemon } from "../lib/daemon.js";
import { createBenchNet, HIDDEN_PORT, runAgent, SPA_PORT } from "../lib/net.js";
import { type Measurement, type ScenarioContext, setNote } from "../lib/result.js";
import { accessFor, newKeys, type PrepareNet, settle } from "./common.js";

/** Past 8,000/s a burst is the whole 198.18.64.0/18 range (16,384 knocks), so it is shorter than 2 s. */
const RATES = [50, 100, 200, 500, 1000, 2000, 4000, 8000, 12_000, 16_000];
const BURST_SECONDS = 2;

interface Step {
  rate: number;
  offered: number;
  granted: number;
  /** What the sender actually achieved (it reports how long the burst took). */
  sentRate: number;
}

async function step(
  kind: DaemonKind,
  keys: BenchKeys,
  rate: number,
  prepare?: PrepareNet,
): Promise<Step> {
  const net = await createBenchNet();
  const extra = await prepare?.(net);
  try {
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: extra?.conf ?? {},
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
    });
    try {
      const offered = Math.min(16_384, Math.max(100, rate * BURST_SECONDS));
      const sent = await runAgent<{ elapsedMs: number }>(
        net.pair.client,
        "sender",
        {
          host: net.pair.serverIp,
          port: SPA_PORT,
          keys,
          hiddenPort: HIDDEN_PORT,
          first: 0,
          count: offered,
          rate,
        },
        120_000,
      );
      await settle(() => d.granted.size, offered, 3000, 60_000);
      const sentRate = Math.round(offered / Math.max(0.001, sent.elapsedMs / 1000));
      return { rate, offered, granted: d.granted.size, sentRate };
    } finally {
      await d.stop();
    }
  } finally {
    await extra?.stop();
    await net.cleanup();
  }
}

/**
 * Highest zero-loss rate: geometric steps up to the first loss, then two bisections.
 * Also returns the rate the sender really achieved in that step. `prepare` adds to each step's
 * network (e.g. a Redis for cluster mode) and to the daemon's configuration.
 */
export async function highestZeroLoss(
  kind: DaemonKind,
  ctx: ScenarioContext,
  prepare?: PrepareNet,
): Promise<{ rate: number; sentRate: number }> {
  const keys = newKeys();
  let good = { rate: 0, sentRate: 0 };
  let bad: number | undefined;
  const attempt = async (rate: number): Promise<boolean> => {
    const s = await step(kind, keys, rate, prepare);
    ctx.log(
      `throughput ${kind}${prepare ? " (prepared)" : ""}: ${rate}/s (sent at ${s.sentRate}/s) → ${s.granted}/${s.offered}`,
    );
    if (s.granted < s.offered) bad = rate;
    else good = { rate, sentRate: s.sentRate };
    return s.granted === s.offered;
  };
  for (const rate of ctx.quick ? [100, 1000] : RATES) if (!(await attempt(rate))) break;
  for (let i = 0; bad !== undefined && !ctx.quick && i < 2; i++) {
    const mid = Math.round((good.rate + bad) / 2);
    if (mid <= good.rate || mid >= bad) break;
    await attempt(mid);
  }
  return good;
}

export async function throughput(ctx: ScenarioContext): Promise<Measurement[]> {
  const m: Measurement = {
    scenario: "throughput",
    condition: `${BURST_SECONDS} s bursts (at most 16,384 knocks) of distinct knocks`,
    metric: "highest zero-loss rate",
    unit: "grants/s",
    better: "higher",
    values: {},
    goal: { op: ">=", value: 2000 },
  };
  const top = ctx.quick ? 1000 : (RATES.at(-1) as number);
  for (const kind of ctx.kinds) {
    const best = await highestZeroLoss(kind, ctx);
    m.values[kind] = best.rate;
    const notes: string[] = [];
    if (best.rate === top) notes.push("the highest rate tried; the limit is higher");
    if (best.sentRate < best.rate * 0.9) notes.push(`the sender reached ${best.sentRate}/s`);
    if (notes.length > 0) setNote(m, kind, notes.join("; "));
  }
  return [m];
}
