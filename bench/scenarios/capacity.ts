/**
 * Scenario 3b, junk capacity against a bare socket: the most expensive junk
 * (`rijndael-hmac`, bench/lib/junk-shapes.ts) sent as fast as the sender can, into each daemon
 * and, in the same run and the same way, into a bare Node.js receiver that only counts
 * datagrams (bench/agents/bare-receiver.ts). The figure is datagrams taken off the socket per
 * CPU-second of the receiving process: every datagram the kernel delivered (the server
 * namespace's InDatagrams) is processed once the receiver has drained its queue, and dividing by
 * the receiver's own CPU time gives what one core sustains, whatever else the shared machine
 * runs. Ours is reported as a share of the bare receiver.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type DaemonKind, firewallVariant, procUsage, startBenchDaemon } from "../lib/daemon.js";
import {
  createBenchNet,
  DIST_BENCH,
  runAgent,
  SPA_PORT,
  udpCounters,
  udpQueueBytes,
} from "../lib/net.js";
import { track } from "../lib/reaper.js";
import { type Measurement, type ScenarioContext, setNote, sleep } from "../lib/result.js";
import { accessFor, newKeys } from "./common.js";

const SHAPE = "rijndael-hmac";
/** Above what any sender here reaches: the sender goes flat out for the time given. */
const FLAT_OUT = 2_000_000;

interface Capacity {
  perCpuSecond: number;
  /** Delivered datagrams per second from the flood's start until the queue was empty. */
  perSecond: number;
  delivered: number;
  sentRate: number;
  kernelDrops: number;
}

/** A receiver under test: its pid, and how to stop it. */
interface Receiver {
  pid: number;
  stop(): Promise<void>;
}

async function startBare(ns: string): Promise<Receiver> {
  const child = track(
    spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        `${DIST_BENCH}agents/bare-receiver.js`,
        JSON.stringify({ port: SPA_PORT }),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    ),
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => lines.once("line", () => resolve(true))),
    exited.then(() => false),
    sleep(30_000).then(() => false),
  ]);
  if (!ready) {
    child.kill("SIGKILL");
    throw new Error("the bare receiver did not start");
  }
  return {
    pid: child.pid ?? -1,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function measure(
  receiver: DaemonKind | "bare",
  seconds: number,
  log: (m: string) => void,
): Promise<Capacity> {
  const net = await createBenchNet();
  try {
    const ns = net.pair.server;
    const r: Receiver =
      receiver === "bare"
        ? await startBare(ns)
        : await startBenchDaemon({
            kind: receiver,
            netns: ns,
            conf: {},
            access: accessFor(newKeys()),
          });
    try {
      const before = await udpCounters(ns);
      const cpu0 = procUsage(r.pid).cpuSec;
      const t0 = Date.now();
      const junk = await runAgent<{ achievedRate: number }>(
        net.pair.client,
        "junk",
        { host: net.pair.serverIp, port: SPA_PORT, rate: FLAT_OUT, seconds, shape: SHAPE },
        seconds * 1000 + 60_000,
      );
      // Everything delivered is processed once the queue is empty (bounded: a stuck receiver
      // is measured as it stands after a minute).
      const end = Date.now() + 60_000;
      while (Date.now() < end && (await udpQueueBytes(ns, SPA_PORT)) > 0) await sleep(100);
      const wallS = (Date.now() - t0) / 1000;
      await sleep(200);
      const cpu = procUsage(r.pid).cpuSec - cpu0;
      const after = await udpCounters(ns);
      const delivered = after.inDatagrams - before.inDatagrams;
      const c: Capacity = {
        perCpuSecond: cpu > 0 ? delivered / cpu : Number.NaN,
        perSecond: delivered / wallS,
        delivered,
        sentRate: junk.achievedRate,
        kernelDrops: after.rcvbufErrors - before.rcvbufErrors,
      };
      log(
        `capacity ${receiver}: ${delivered} delivered in ${cpu.toFixed(2)} CPU-s → ${Math.round(c.perCpuSecond)}/CPU-s (sent at ${c.sentRate}/s, ${c.kernelDrops} kernel drops)`,
      );
      return c;
    } finally {
      await r.stop();
    }
  } finally {
    await net.cleanup();
  }
}

export async function capacity(ctx: ScenarioContext): Promise<Measurement[]> {
  const seconds = ctx.quick ? 2 : 6;
  const condition = `worst-case junk (${SHAPE}, 399 characters), sender flat out for ${seconds} s`;
  const perCpu: Measurement = {
    scenario: "capacity",
    condition,
    metric: "junk packets taken per CPU-second of the daemon (one thread)",
    unit: "packets/CPU-s",
    better: "higher",
    values: {},
    notes: {},
  };
  const share: Measurement = {
    scenario: "capacity",
    condition,
    metric: "share of a bare Node.js receiver's packets per CPU-second (same run)",
    unit: "%",
    better: "higher",
    values: {},
    goal: { op: ">=", value: 60 },
  };
  const perWall: Measurement = {
    scenario: "capacity",
    condition,
    metric: "junk packets taken per second, wall clock (flood and drain)",
    unit: "packets/s",
    better: "higher",
    values: {},
    notes: {},
  };
  const bare = await measure("bare", seconds, ctx.log);
  // The firewall plays no part here: one column per daemon program.
  for (const kind of ctx.kinds.filter((k) => !firewallVariant(k) && k !== "ours-nft")) {
    const c = await measure(kind, seconds, ctx.log);
    perCpu.values[kind] = c.perCpuSecond;
    share.values[kind] = (100 * c.perCpuSecond) / bare.perCpuSecond;
    perWall.values[kind] = c.perSecond;
    setNote(
      perWall,
      kind,
      `bare receiver: ${Math.round(bare.perSecond).toLocaleString("en-US")}/s; depends on the machine and its load`,
    );
    setNote(
      perCpu,
      kind,
      `bare receiver: ${Math.round(bare.perCpuSecond).toLocaleString("en-US")}/CPU-s; junk sent at ${Math.round(c.sentRate / 1000)}k/s, kernel drops ${c.kernelDrops.toLocaleString("en-US")}`,
    );
  }
  return [perCpu, share, perWall];
}
