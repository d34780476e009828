/**
 * Per-packet cost of refused junk, in process (bench/lib/junk-path.ts: the daemon's own path
 * for a datagram, no sockets or other processes), so it is deterministic enough to profile on a
 * busy machine (`node --cpu-prof`), for each shape of bench/lib/junk-shapes.ts.
 *   node dist/bench/junk-cost.js [--packets N] [--shape NAME]
 * Prints one JSON line per shape: microseconds of main-thread CPU per packet and packets/s.
 */
import { parseArgs } from "node:util";
import { openJunkPath } from "./lib/junk-path.js";
import { JUNK_SHAPES, junkPool } from "./lib/junk-shapes.js";

const { values } = parseArgs({
  options: {
    packets: { type: "string", default: "200000" },
    shape: { type: "string" },
  },
});
const packets = Number(values.packets);
const path = await openJunkPath();
try {
  for (const shape of JUNK_SHAPES.filter((s) => !values.shape || s.name === values.shape)) {
    const pool = junkPool(shape, 4096);
    const one = (i: number) => path.one(pool[i & 4095] as Buffer, i);
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
} finally {
  await path.close();
}
