/**
 * Scenario 3, junk flood: junk at 10k/50k/100k packets/s for a few seconds while 100 valid
 * knocks (distinct allow-IPs) are spread evenly through the flood; the figure is the share of
 * those knocks that were granted. The junk is the most expensive shape (`rijndael-hmac`, see
 * bench/lib/junk-shapes.ts), plus one row of the milder random base64 the older runs used. The
 * junk sender reports the rate it achieved, and the server namespace's UDP counters show how
 * many datagrams the kernel dropped for a full buffer.
 */
import { type DaemonKind, firewallVariant, procUsage, startBenchDaemon } from "../lib/daemon.js";
import { createBenchNet, HIDDEN_PORT, runAgent, SPA_PORT, udpCounters } from "../lib/net.js";
import { type Measurement, type ScenarioContext, setNote } from "../lib/result.js";
import { accessFor, newKeys, type PrepareNet, settle } from "./common.js";

const RATES = [10_000, 50_000, 100_000];
/** What an attacker would send: the junk that costs the daemon most. */
export const WORST_SHAPE = "rijndael-hmac";
const SECONDS = 5;
const VALID = 100;

export interface FloodOptions {
  /** Extra fwknopd.conf variables (e.g. METRICS_LISTEN). */
  conf?: Record<string, string>;
  /** Runs in the server namespace for the length of the flood (e.g. a metrics scraper). */
  alongside?: (serverNs: string, seconds: number) => Promise<unknown>;
  seconds?: number;
  /** Adds to the fresh network before the daemon starts (e.g. a Redis); its conf joins `conf`. */
  prepare?: PrepareNet;
}

export async function flood(
  kind: DaemonKind,
  rate: number,
  capture: "udp" | "pcap" = "udp",
  shape = WORST_SHAPE,
  opts: FloodOptions = {},
): Promise<{
  share: number;
  achieved: number;
  dropped: number;
  /** Datagrams the kernel queued for the daemon during the run (sent − dropped, per /proc/net/snmp). */
  delivered: number;
  /** The daemon process's own CPU time (user + system) from the flood's start to the end. */
  cpuSec: number;
  alongside: unknown;
  extra?: Record<string, number>;
}> {
  const seconds = opts.seconds ?? SECONDS;
  const keys = newKeys();
  const net = await createBenchNet();
  const extra = await opts.prepare?.(net);
  try {
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: { ...opts.conf, ...extra?.conf },
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
      capture,
    });
    try {
      const target = { host: net.pair.serverIp, port: SPA_PORT };
      const before = await udpCounters(net.pair.server);
      const cpu0 = procUsage(d.pid).cpuSec;
      const [junk, , alongside] = await Promise.all([
        runAgent<{ achievedRate: number }>(
          net.pair.client,
          "junk",
          { ...target, rate, seconds, shape },
          60_000,
        ),
        runAgent(
          net.pair.client,
          "sender",
          {
            ...target,
            keys,
            hiddenPort: HIDDEN_PORT,
            first: 0,
            count: VALID,
            rate: VALID / seconds,
          },
          60_000,
        ),
        opts.alongside?.(net.pair.server, seconds),
      ]);
      await settle(() => d.granted.size, VALID, 3000, 30_000);
      const after = await udpCounters(net.pair.server);
      const cpuSec = procUsage(d.pid).cpuSec - cpu0;
      const measured = await extra?.measure?.();
      return {
        share: (100 * d.granted.size) / VALID,
        achieved: junk.achievedRate,
        dropped: after.rcvbufErrors - before.rcvbufErrors,
        delivered: after.inDatagrams - before.inDatagrams,
        cpuSec,
        alongside,
        ...(measured ? { extra: measured } : {}),
      };
    } finally {
      await d.stop();
    }
  } finally {
    await extra?.stop();
    await net.cleanup();
  }
}

export async function junk(ctx: ScenarioContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const runs = (ctx.quick ? [10_000] : RATES).map((rate) => ({ rate, shape: WORST_SHAPE }));
  if (!ctx.quick) runs.push({ rate: 50_000, shape: "random-b64" });
  for (const { rate, shape } of runs) {
    const m: Measurement = {
      scenario: "junk",
      condition: `${rate / 1000}k junk packets/s (${shape}) for ${SECONDS} s`,
      metric: "valid knocks granted",
      unit: "%",
      better: "higher",
      values: {},
      notes: {},
      ...(rate === 50_000 && shape === WORST_SHAPE
        ? { goal: { op: ">=" as const, value: 100 } }
        : {}),
    };
    for (const kind of ctx.kinds.filter((k) => !firewallVariant(k))) {
      const r = await flood(kind, rate, "udp", shape);
      ctx.log(
        `junk ${kind} ${shape} @${rate}/s (achieved ${r.achieved}/s): ${r.share}% granted, ${r.dropped} dropped by the kernel`,
      );
      m.values[kind] = r.share;
      const dropped = r.dropped.toLocaleString("en-US");
      setNote(
        m,
        kind,
        `junk sent at ${Math.round(r.achieved / 1000)}k/s; kernel drops for a full socket buffer: ${dropped}`,
      );
    }
    out.push(m);
  }
  return out;
}
