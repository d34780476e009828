/**
 * Scenario 1, zero-loss grant throughput: bursts of distinct valid knocks (one allow-IP each)
 * at rising rates; a rate passes when every knock of its burst was granted. Each step gets a
 * fresh network and daemon so chain length and replay cache start empty every time.
 */

import type { BenchKeys } from "../../test/helpers/bench-knock.js";
import { type DaemonKind, startBenchDaemon } from "../lib/daemon.js";
import { createBenchNet, HIDDEN_PORT, runAgent, SPA_PORT } from "../lib/net.js";
import type { Measurement, ScenarioContext } from "../lib/result.js";
import { accessFor, newKeys, settle } from "./common.js";

const RATES = [50, 100, 200, 500, 1000, 2000, 4000, 8000];
const BURST_SECONDS = 2;

interface Step {
  rate: number;
  offered: number;
  granted: number;
}

async function step(kind: DaemonKind, keys: BenchKeys, rate: number): Promise<Step> {
  const net = await createBenchNet();
  try {
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: {},
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
    });
    try {
      const offered = Math.min(16_384, Math.max(100, rate * BURST_SECONDS));
      await runAgent(
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
      return { rate, offered, granted: d.granted.size };
    } finally {
      await d.stop();
    }
  } finally {
    await net.cleanup();
  }
}

/** Highest zero-loss rate: geometric steps up to the first loss, then two bisections. */
async function highestZeroLoss(kind: DaemonKind, ctx: ScenarioContext): Promise<number> {
  const keys = newKeys();
  const rates = ctx.quick ? [100, 1000] : RATES;
  let good = 0;
  let bad: number | undefined;
  for (const rate of rates) {
    const s = await step(kind, keys, rate);
    ctx.log(`throughput ${kind}: ${rate}/s → ${s.granted}/${s.offered} granted`);
    if (s.granted < s.offered) {
      bad = rate;
      break;
    }
    good = rate;
  }
  for (let i = 0; bad !== undefined && !ctx.quick && i < 2; i++) {
    const mid = Math.round((good + bad) / 2);
    if (mid <= good || mid >= bad) break;
    const s = await step(kind, keys, mid);
    ctx.log(`throughput ${kind}: ${mid}/s → ${s.granted}/${s.offered} granted`);
    if (s.granted < s.offered) bad = mid;
    else good = mid;
  }
  return good;
}

export async function throughput(ctx: ScenarioContext): Promise<Measurement[]> {
  const m: Measurement = {
    scenario: "throughput",
    condition: `${BURST_SECONDS} s bursts of distinct knocks`,
    metric: "highest zero-loss rate",
    unit: "grants/s",
    better: "higher",
    values: {},
    goal: { op: ">=", value: 2000 },
  };
  for (const kind of ctx.kinds) m.values[kind] = await highestZeroLoss(kind, ctx);
  return [m];
}
