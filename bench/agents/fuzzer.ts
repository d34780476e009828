/**
 * Runs inside the client namespace: sends `cases` hostile packets (see mutate.ts) at `rate`
 * per second, and every `controlEvery` cases one fresh valid control knock (allow-IP
 * grantIp(k), 198.18.64.0/18) so the run shows the daemon still grants while being fuzzed.
 * Mutation seeds are valid knocks for 198.18.128.0/17 that are never sent unmodified, so any
 * grant outside the control range is a false grant. argv[2]: JSON FuzzJob; prints one JSON line.
 */
import dgram from "node:dgram";
import { type BenchKeys, grantIp, makeKnock } from "../../test/helpers/bench-knock.js";
import { type Ctx, nextCase, rng } from "./mutate.js";
import { pace } from "./pace.js";

export interface FuzzJob {
  host: string;
  port: number;
  hiddenPort: number;
  keys: BenchKeys;
  cases: number;
  rate: number;
  seed: number;
  controlEvery: number;
}

export interface FuzzReport {
  sent: number;
  elapsedMs: number;
  byGenerator: Record<string, number>;
  controls: number;
  sendErrors: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as FuzzJob;
const r = rng(job.seed);

function poisonSeeds(): string[] {
  return Array.from({ length: 32 }, () => {
    const i = Math.floor(r() * 32_768);
    return makeKnock(job.keys, {
      allowIp: `198.18.${128 + (i >> 8)}.${i & 255}`,
      port: job.hiddenPort,
    });
  });
}

const ctx: Ctx & { seeds: string[] } = { r, seeds: poisonSeeds(), keys: job.keys };
const byGenerator: Record<string, number> = {};
let controls = 0;
let sendErrors = 0;
const sock = dgram.createSocket("udp4");
// A refused send (e.g. a full buffer) is counted, never fatal: the run must finish.
sock.on("error", () => sendErrors++);
sock.bind(0, () => {
  sock.setSendBufferSize(8 * 1024 * 1024);
  sock.connect(job.port, job.host, async () => {
    const res = await pace(job.cases, job.rate, (i) => {
      // Fresh seeds now and then keep their timestamps inside the daemon's 120 s window.
      if (i > 0 && i % 50_000 === 0) ctx.seeds = poisonSeeds();
      if (i % job.controlEvery === job.controlEvery - 1) {
        sock.send(
          Buffer.from(makeKnock(job.keys, { allowIp: grantIp(controls++), port: job.hiddenPort })),
        );
      }
      const c = nextCase(ctx);
      byGenerator[c.name] = (byGenerator[c.name] ?? 0) + 1;
      sock.send(c.packet);
    });
    setTimeout(() => {
      const report: FuzzReport = {
        sent: res.sent,
        elapsedMs: res.elapsedMs,
        byGenerator,
        controls,
        sendErrors,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
      sock.close();
    }, 300);
  });
});
