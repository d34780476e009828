/**
 * Long-lived prober inside the client namespace, so timings carry no process start-up cost.
 * One JSON command per stdin line, one JSON answer per stdout line:
 *   {"op":"knock","allowIp":"198.18.0.10","clientTimeout":2,"timeoutMs":10000}
 *      → build a knock for allowIp (before the clock starts), send it, then connect from allowIp
 *        to the hidden port in a tight loop (the port REJECTs with a TCP reset, so each miss
 *        returns at once) → {"ok":true,"ms":1.23,"at":<epoch ms of the first connect>}
 *   {"op":"closed","src":"198.18.0.10","timeoutMs":15000,"everyMs":20}
 *      → connect every everyMs until a connect is refused → {"ok":true,"at":<epoch ms>}
 * argv[2] is a JSON ProberSetup.
 */
import dgram from "node:dgram";
import net from "node:net";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { type BenchKeys, makeKnock } from "../../test/helpers/bench-knock.js";

export interface ProberSetup {
  /** Where knocks go. */
  host: string;
  /** Where the hidden port is tried (default `host`; another gateway of a cluster). */
  connectHost?: string;
  spaPort: number;
  hiddenPort: number;
  keys: BenchKeys;
}

const setup = JSON.parse(process.argv[2] ?? "{}") as ProberSetup;
const udp = dgram.createSocket("udp4");
// With nobody listening on the SPA port (the daemon sniffs in pcap mode), the kernel answers
// with ICMP port-unreachable, which a connected socket reports as an error: not ours to handle.
udp.on("error", () => {});

/** One connect attempt from `src`: true on a completed handshake, false on reset/timeout. */
function tryConnect(src: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const host = setup.connectHost ?? setup.host;
    const s = net.connect({ host, port: setup.hiddenPort, localAddress: src });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function send(wire: string): Promise<void> {
  return new Promise((resolve, reject) =>
    udp.send(Buffer.from(wire), setup.spaPort, setup.host, (e) => (e ? reject(e) : resolve())),
  );
}

interface Command {
  op: string;
  allowIp?: string;
  src?: string;
  clientTimeout?: number;
  timeoutMs?: number;
  everyMs?: number;
}

async function handle(c: Command): Promise<object> {
  const src = c.allowIp ?? c.src ?? "";
  const deadline = performance.now() + (c.timeoutMs ?? 10_000);
  if (c.op === "knock") {
    const wire = makeKnock(setup.keys, {
      allowIp: src,
      port: setup.hiddenPort,
      ...(c.clientTimeout !== undefined ? { clientTimeout: c.clientTimeout } : {}),
    });
    const t0 = performance.now();
    await send(wire);
    while (performance.now() < deadline) {
      if (await tryConnect(src)) return { ok: true, ms: performance.now() - t0, at: Date.now() };
    }
    return { ok: false, error: "timeout" };
  }
  if (c.op === "closed") {
    while (performance.now() < deadline) {
      if (!(await tryConnect(src, 200))) return { ok: true, at: Date.now() };
      await sleep(c.everyMs ?? 20);
    }
    return { ok: false, error: "timeout" };
  }
  return { ok: false, error: `unknown op ${c.op}` };
}

udp.bind(0, () => {
  const rl = createInterface({ input: process.stdin });
  // Commands run one at a time, in order.
  let chain = Promise.resolve();
  rl.on("line", (line) => {
    chain = chain.then(async () => {
      const answer = await handle(JSON.parse(line) as Command).catch((e: unknown) => ({
        ok: false,
        error: String(e),
      }));
      process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
  });
  rl.on("close", () => void chain.then(() => udp.close()));
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
});
