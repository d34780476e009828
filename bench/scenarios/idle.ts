/**
 * Scenario 6, idle cost: a freshly started daemon, untouched for IDLE_SECONDS; resident memory
 * at the end and CPU time (user + system) spent over the window, from /proc.
 */
import { type DaemonKind, firewallVariant, procUsage, startBenchDaemon } from "../lib/daemon.js";
import { createBenchNet } from "../lib/net.js";
import { type Measurement, type ScenarioContext, sleep } from "../lib/result.js";
import { accessFor, newKeys } from "./common.js";

const IDLE_SECONDS = 10;

async function idleOnce(
  kind: DaemonKind,
  seconds: number,
): Promise<{ rssMb: number; cpuMs: number }> {
  const net = await createBenchNet();
  try {
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: {},
      access: accessFor(newKeys()),
    });
    try {
      await sleep(1000);
      const a = procUsage(d.pid);
      await sleep(seconds * 1000);
      const b = procUsage(d.pid);
      return { rssMb: b.rssKb / 1024, cpuMs: (b.cpuSec - a.cpuSec) * 1000 };
    } finally {
      await d.stop();
    }
  } finally {
    await net.cleanup();
  }
}

export async function idle(ctx: ScenarioContext): Promise<Measurement[]> {
  const seconds = ctx.quick ? 3 : IDLE_SECONDS;
  const rss: Measurement = {
    scenario: "idle",
    condition: `idle for ${seconds} s`,
    metric: "resident memory",
    unit: "MB",
    better: "lower",
    values: {},
  };
  const cpu: Measurement = { ...rss, metric: "CPU time used", unit: "ms", values: {} };
  for (const kind of ctx.kinds.filter((k) => !firewallVariant(k))) {
    const r = await idleOnce(kind, seconds);
    ctx.log(`idle ${kind}: ${r.rssMb.toFixed(1)} MB, ${r.cpuMs} ms CPU`);
    rss.values[kind] = r.rssMb;
    cpu.values[kind] = r.cpuMs;
  }
  return [rss, cpu];
}
