/**
 * What the Prometheus metrics cost the packet path, in process: worst-case junk
 * (`rijndael-hmac`) through the daemon's own path (bench/lib/junk-path.ts), with or without the
 * daemon's metrics registry (createMetrics: the outcome counts read at scrape time, its channel
 * subscribers, prom-client's default metrics with the event-loop monitor), and with a scrape (the registry's
 * full text) every `scrapeEvery` packets — 50,000 is once a second at 50k packets/s. The loop
 * yields to the event loop every 32 packets, as the daemon does between datagrams, so
 * observers and timers run inside the measured time. One mode per process: prom-client's
 * default metrics cannot be switched off again. argv[2] is a JSON MetricsCostJob; prints one
 * JSON line: microseconds of CPU per packet (scrapes included) and the scrapes' duration.
 */
import { setImmediate as turn } from "node:timers/promises";
import { createMetrics } from "../../src/server/metrics.js";
import { openJunkPath } from "../lib/junk-path.js";
import { junkPool, junkShape } from "../lib/junk-shapes.js";

export interface MetricsCostJob {
  metrics: boolean;
  packets: number;
  scrapeEvery: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as MetricsCostJob;
const path = await openJunkPath();
const metrics = job.metrics
  ? createMetrics({
      backend: "iptables",
      intake: "udp",
      sources: {
        outcomes: () => path.outcomes(),
        activeGrants: () => 0,
        replayEntries: () => 0,
        udpReceiveDrops: () => 0,
      },
    })
  : undefined;
const pool = junkPool(junkShape("rijndael-hmac"), 4096);
const scrapeMs: number[] = [];

async function run(packets: number, timed: boolean): Promise<void> {
  for (let i = 0; i < packets; i++) {
    const waits = path.one(pool[i & 4095] as Buffer, i);
    if (waits !== undefined) await waits;
    if ((i & 31) === 31) await turn();
    if (metrics && i % job.scrapeEvery === job.scrapeEvery - 1) {
      const t = performance.now();
      await metrics.registry.metrics();
      if (timed) scrapeMs.push(performance.now() - t);
    }
  }
}

try {
  await run(20_000, false); // JIT warm-up (and one scrape when scrapeEvery allows)
  if (metrics) await metrics.registry.metrics();
  const cpu0 = process.cpuUsage();
  await run(job.packets, true);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({
      usPerPacket: (cpu.user + cpu.system) / job.packets,
      scrapes: scrapeMs.length,
      scrapeMeanMs: scrapeMs.reduce((a, b) => a + b, 0) / Math.max(1, scrapeMs.length),
      scrapeMaxMs: Math.max(0, ...scrapeMs),
    })}\n`,
  );
} finally {
  metrics?.close();
  await path.close();
}
