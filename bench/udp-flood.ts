/**
 * Does the UDP intake keep valid knocks during a junk flood? A child process sends junk
 * datagrams at a fixed rate to a loopback intake, with a marked "knock" every 1/50 of the run;
 * the report says how many knocks and how much junk arrived, and the receive buffer obtained.
 * Usage: node dist/bench/udp-flood.js [junkPerSecond=50000] [seconds=2] [workMicros=2]
 * `workMicros` simulates the pipeline's per-candidate cost (busy wait).
 */
import { fork } from "node:child_process";
import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { silentLogger } from "../src/log/logger.js";
import { createUdpIntake } from "../src/server/intake/udp.js";

const KNOCKS = 50;

if (process.argv[2] === "--send") {
  const [, , , portText, rateText, secondsText] = process.argv;
  const port = Number(portText);
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const s = createSocket("udp4");
  const junk = Buffer.alloc(300, "x");
  const total = rate * seconds;
  const knockEvery = Math.floor(total / KNOCKS);
  const start = performance.now();
  let sent = 0;
  let knocks = 0;
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const knock = sent % knockEvery === 0 && knocks < KNOCKS;
      if (knock) knocks++;
      s.send(knock ? Buffer.from(`KNOCK ${knocks}`) : junk, port, "127.0.0.1");
    }
    if (sent < total) setImmediate(tick);
    else setTimeout(() => s.close(() => process.exit(0)), 200);
  };
  tick();
} else {
  const rate = Number(process.argv[2] ?? 50_000);
  const seconds = Number(process.argv[3] ?? 2);
  const workMicros = Number(process.argv[4] ?? 2);
  const logs: string[] = [];
  const log = { ...silentLogger, info: (m: string) => void logs.push(m) };
  const intake = createUdpIntake({ port: 0, host: "127.0.0.1", log });
  let junk = 0;
  const knocks = new Set<string>();
  await intake.start((c) => {
    const end = performance.now() + workMicros / 1000;
    while (performance.now() < end) {
      // simulated pipeline cost
    }
    if (c.payload[0] === 0x4b) knocks.add(c.payload.toString());
    else junk++;
  });
  const sender = fork(fileURLToPath(import.meta.url), [
    "--send",
    String(intake.port),
    String(rate),
    String(seconds),
  ]);
  await new Promise((r) => sender.once("exit", r));
  await new Promise((r) => setTimeout(r, 500));
  const kernelDrops = intake.kernelDrops();
  await intake.stop();
  console.log(
    JSON.stringify({
      junkPerSecond: rate,
      seconds,
      workMicros,
      knocksReceived: `${knocks.size}/${KNOCKS}`,
      junkReceived: junk,
      junkSent: rate * seconds - KNOCKS,
      kernelDrops,
      buffer: logs.find((l) => l.startsWith("UDP receive buffer")),
    }),
  );
}
