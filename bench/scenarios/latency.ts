/**
 * Scenario 2, knock-to-open latency: the long-lived prober sends a knock and connects to the
 * hidden port in a tight loop until the handshake completes. "Other grants" are pre-inserted
 * `_exp_` rules that both daemons adopt (FLUSH_IPT_AT_INIT N), so both face the same chain.
 */
import { type DaemonKind, startBenchDaemon } from "../lib/daemon.js";
import { createBenchNet, preloadGrants, probeIp, startProber } from "../lib/net.js";
import { type Measurement, percentile, type ScenarioContext, sleep } from "../lib/result.js";
import { accessFor, newKeys } from "./common.js";

const LEVELS = [0, 1000, 10_000];

async function samples(kind: DaemonKind, others: number, trials: number): Promise<number[]> {
  const keys = newKeys();
  const net = await createBenchNet();
  try {
    if (others > 0)
      await preloadGrants(net.pair.server, others, Math.floor(Date.now() / 1000) + 7200, kind);
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: { FLUSH_IPT_AT_INIT: others > 0 ? "N" : "Y" },
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
    });
    const prober = await startProber(net.pair, keys);
    try {
      const out: number[] = [];
      for (let i = 0; i < trials; i++) {
        const r = await prober.ask<{ ms: number }>({
          op: "knock",
          allowIp: probeIp(i),
          timeoutMs: 20_000,
        });
        if (!r.ok) throw new Error(`${kind}: knock ${i} never opened (${r.error})`);
        out.push(r.ms);
        await sleep(20);
      }
      return out.sort((a, b) => a - b);
    } finally {
      prober.close();
      await d.stop();
    }
  } finally {
    await net.cleanup();
  }
}

export async function latency(ctx: ScenarioContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const others of ctx.quick ? [0, 1000] : LEVELS) {
    const condition = `${others.toLocaleString("en-US")} other grants active`;
    const p50: Measurement = {
      scenario: "latency",
      condition,
      metric: "knock-to-open p50",
      unit: "ms",
      better: "lower",
      values: {},
      ...(others === 10_000 ? { goal: { op: "<=" as const, value: 2 } } : {}),
    };
    const p99: Measurement = { ...p50, metric: "knock-to-open p99", values: {} };
    delete p99.goal;
    for (const kind of ctx.kinds) {
      // Each trial uses its own probe address; a slow daemon gets fewer trials to stay bounded.
      const s = await samples(kind, others, ctx.quick ? 10 : 40);
      ctx.log(
        `latency ${kind} @${others}: p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms`,
      );
      p50.values[kind] = percentile(s, 50);
      p99.values[kind] = percentile(s, 99);
    }
    out.push(p50, p99);
  }
  return out;
}
