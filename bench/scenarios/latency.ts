/**
 * Scenario 2, knock-to-open latency: the long-lived prober sends a knock and connects to the
 * hidden port in a tight loop until the handshake completes. "Other grants" are pre-inserted
 * `_exp_` rules (ipset entries for our ipset mode) that the daemon adopts (FLUSH_IPT_AT_INIT N),
 * so every daemon faces the same number of active grants. The floor of the method is measured
 * too: a knock for an address whose port is already open (one datagram + one connect).
 *
 * A diagnostic pass at 10,000 grants places the processes instead of leaving that to the
 * scheduler: the prober alone on one core, the daemon, its firewall tool, the hidden service and
 * this harness on the other, as if the client ran on a machine of its own. On the two-core
 * benchmark machine the prober otherwise shares a core with whatever the knock wakes, and its
 * own connects wait for it (bench/notes.md). Not a goal row: it shows what co-location costs.
 */

import { pinTree, splitCores, unpinSelf } from "../lib/cpu-pin.js";
import type { DaemonKind } from "../lib/daemon.js";
import { createBenchNet, PROBE_ADDRESSES, probeIp, startProber } from "../lib/net.js";
import { type Measurement, percentile, type ScenarioContext, sleep } from "../lib/result.js";
import { accessFor, newKeys, startWithOthers } from "./common.js";

const LEVELS = [0, 1000, 10_000];
const FLOOR_TRIALS = 20;

export async function samples(
  kind: DaemonKind,
  others: number,
  trials: number,
  capture: "udp" | "pcap" = "udp",
  cores?: { client: string; server: string },
): Promise<{ open: number[]; floor: number[] }> {
  const keys = newKeys();
  const net = await createBenchNet();
  try {
    const d = await startWithOthers({
      kind,
      net,
      others,
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
      capture,
    });
    const prober = await startProber(net.pair, keys);
    if (cores) {
      // This process and all it started (daemon, nft, hidden service, prober) to the server's
      // core, then the prober alone to the client's.
      await pinTree(process.pid, cores.server);
      await pinTree(prober.pid, cores.client);
    }
    try {
      const knock = async (i: number) => {
        const r = await prober.ask<{ ms: number }>({
          op: "knock",
          allowIp: probeIp(i),
          timeoutMs: 20_000,
        });
        if (!r.ok) throw new Error(`${kind}: knock from ${probeIp(i)} never opened (${r.error})`);
        await sleep(20);
        return r.ms;
      };
      // Each trial uses its own probe address, so each is a new grant.
      const open: number[] = [];
      for (let i = 0; i < trials; i++) open.push(await knock(i));
      const floor: number[] = [];
      for (let i = 0; i < Math.min(FLOOR_TRIALS, trials); i++) floor.push(await knock(i));
      const sort = (a: number[]) => a.sort((x, y) => x - y);
      return { open: sort(open), floor: sort(floor) };
    } finally {
      prober.close();
      await d.stop();
      if (cores) await unpinSelf();
    }
  } finally {
    await net.cleanup();
  }
}

export async function latency(ctx: ScenarioContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const others of ctx.quick ? [0, 1000] : LEVELS) {
    const condition = `${others.toLocaleString("en-US")} other grants active`;
    const p50 = row(condition, OPEN_P50, others === 10_000 ? { op: "<=", value: 2 } : undefined);
    const p99 = row(condition, "knock-to-open p99");
    const floor = row(condition, FLOOR_P50);
    for (const kind of ctx.kinds) {
      const s = await samples(kind, others, ctx.quick ? 10 : PROBE_ADDRESSES);
      ctx.log(
        `latency ${kind} @${others}: p50 ${percentile(s.open, 50).toFixed(2)} ms, p99 ${percentile(s.open, 99).toFixed(2)} ms, floor ${percentile(s.floor, 50).toFixed(2)} ms`,
      );
      p50.values[kind] = percentile(s.open, 50);
      p99.values[kind] = percentile(s.open, 99);
      floor.values[kind] = percentile(s.floor, 50);
    }
    out.push(p50, p99);
    if (others === 0) out.push(floor);
  }
  const cores = splitCores();
  if (!ctx.quick && cores) out.push(...(await clientApart(ctx, cores)));
  return out;
}

/** The diagnostic pass: 10,000 grants, the prober on a core of its own. */
async function clientApart(
  ctx: ScenarioContext,
  cores: { client: string; server: string },
): Promise<Measurement[]> {
  const condition = `10,000 other grants active, prober alone on core ${cores.client}, the rest on core ${cores.server}`;
  const p50 = row(condition, OPEN_P50);
  const floor = row(condition, FLOOR_P50);
  for (const kind of ctx.kinds) {
    const s = await samples(kind, 10_000, PROBE_ADDRESSES, "udp", cores);
    ctx.log(
      `latency ${kind} @10000, prober on a core of its own: p50 ${percentile(s.open, 50).toFixed(2)} ms, floor ${percentile(s.floor, 50).toFixed(2)} ms`,
    );
    p50.values[kind] = percentile(s.open, 50);
    floor.values[kind] = percentile(s.floor, 50);
  }
  return [p50, floor];
}

const OPEN_P50 = "knock-to-open p50";
const FLOOR_P50 = "method floor p50 (port already open)";

/** One row of this scenario, in ms, lower is better; values are filled in per daemon. */
function row(condition: string, metric: string, goal?: Measurement["goal"]): Measurement {
  return {
    scenario: "latency",
    condition,
    metric,
    unit: "ms",
    better: "lower",
    values: {},
    ...(goal ? { goal } : {}),
  };
}
