/**
 * The bench network: two fresh namespaces per daemon run (so no firewall state leaks between
 * runs), a hidden TCP service in the server namespace guarded by a REJECT (tcp-reset) rule so a
 * refused connect returns at once, and extra client addresses for latency probes.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEFAULT_NFT_SETTINGS } from "../../src/firewall/nft-settings.js";
import { runChecked } from "../../src/sys/run.js";
import type { BenchKeys } from "../../test/helpers/bench-knock.js";
import {
  addClientAddresses,
  createNetnsPair,
  type NetnsPair,
  startHiddenService,
} from "../../test/helpers/netns.js";
import type { DaemonKind } from "./daemon.js";
import { track } from "./reaper.js";

export const SPA_PORT = 62201;
/** NFT_MARK as hex, for the bench host's accept-the-mark rule. */
const NFT_MARK = `0x${DEFAULT_NFT_SETTINGS.mark.toString(16)}`;
export const HIDDEN_PORT = 2222;
/** Client addresses 198.18.0.10 … 198.18.0.109, one per latency probe (a new grant each). */
export const PROBE_ADDRESSES = 100;

export function probeIp(i: number): string {
  return `198.18.0.${10 + (i % PROBE_ADDRESSES)}`;
}

/**
 * The bench INPUT policy in `ns`: loopback, established, the SPA port and nftables-marked grants
 * accepted, the hidden port REJECTed with a TCP reset (a refused connect returns at once),
 * everything else dropped.
 */
export async function guardHiddenPort(ns: string): Promise<void> {
  const ipt = (...a: string[]) => runChecked(["iptables", ...a], { netns: ns });
  await ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-p", "udp", "--dport", String(SPA_PORT), "-j", "ACCEPT");
  // What docs/firewall.md asks of a default-drop host for our nftables backend: its table
  // accepts a grant in its own chain and marks the packet, and this chain accepts the mark.
  // The other daemons never set the mark.
  await ipt("-A", "INPUT", "-m", "mark", "--mark", `${NFT_MARK}/${NFT_MARK}`, "-j", "ACCEPT");
  await ipt(
    "-A",
    "INPUT",
    "-p",
    "tcp",
    "--dport",
    String(HIDDEN_PORT),
    "-j",
    "REJECT",
    "--reject-with",
    "tcp-reset",
  );
  await ipt("-P", "INPUT", "DROP");
}

export interface BenchNet {
  pair: NetnsPair;
  cleanup(): Promise<void>;
}

export async function createBenchNet(): Promise<BenchNet> {
  const pair = await createNetnsPair("bench");
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => pair.cleanup()];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const svc = track(await startHiddenService(pair.server, HIDDEN_PORT));
    cleanups.push(() => svc.kill());
    await guardHiddenPort(pair.server);
    await addClientAddresses(
      pair,
      Array.from({ length: PROBE_ADDRESSES }, (_, i) => `${probeIp(i)}/24`),
    );
    return { pair, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Pre-inserts `count` grants as the daemon itself writes them (with an `_exp_` marker), for a
 * daemon started with FLUSH_IPT_AT_INIT (FLUSH_NFT_AT_INIT) N to adopt: rules in FWKNOP_INPUT,
 * entries of the FWKNOP_INPUT set in our ipset mode, elements of our table's allow4 set with
 * nftables. Addresses come from 198.19.0.0/16 and the port varies past 65,536 grants, so every
 * one is a distinct grant.
 */
export async function preloadGrants(
  ns: string,
  count: number,
  expiresAt: number,
  kind: DaemonKind,
): Promise<void> {
  const who = (i: number) => [`198.19.${(i >> 8) & 255}.${i & 255}`, 10_000 + (i >> 16)] as const;
  const lines: string[] = [];
  if (kind === "ours-nft") {
    // Elements of the set our nftables backend creates (src/firewall/nft-json.ts), so it adopts
    // them; the kernel times them out like the daemon's own.
    const ttl = expiresAt - Math.floor(Date.now() / 1000);
    const t = DEFAULT_NFT_SETTINGS.table;
    lines.push(
      `table inet ${t} {`,
      "  set allow4 {",
      "    type ipv4_addr . inet_proto . inet_service; flags timeout;",
      "  }",
      "}",
    );
    // In slices: one `add element` per 10,000 keeps each nft command line-sized.
    for (let i = 0; i < count; i += 10_000) {
      const elems: string[] = [];
      for (let j = i; j < Math.min(count, i + 10_000); j++) {
        const [ip, port] = who(j);
        elems.push(`${ip} . tcp . ${port} timeout ${ttl}s comment "_exp_${expiresAt}"`);
      }
      lines.push(`add element inet ${t} allow4 { ${elems.join(", ")} }`);
    }
    await runChecked(["nft", "-f", "-"], {
      netns: ns,
      input: `${lines.join("\n")}\n`,
      timeoutMs: 120_000,
    });
    return;
  }
  if (kind === "ours-ipset") {
    // The same set definition our backend creates (src/firewall/ipset.ts), so it adopts it.
    lines.push("create FWKNOP_INPUT hash:ip,port family inet timeout 0 comment maxelem 1048576");
    const ttl = expiresAt - Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i++) {
      const [ip, port] = who(i);
      lines.push(`add FWKNOP_INPUT ${ip},tcp:${port} timeout ${ttl} comment "_exp_${expiresAt}"`);
    }
    await runChecked(["ipset", "restore"], {
      netns: ns,
      input: `${lines.join("\n")}\n`,
      timeoutMs: 120_000,
    });
    return;
  }
  lines.push("*filter", ":FWKNOP_INPUT - [0:0]");
  for (let i = 0; i < count; i++) {
    const [ip, port] = who(i);
    lines.push(
      `-A FWKNOP_INPUT -s ${ip}/32 -p tcp -m tcp --dport ${port} -m comment --comment _exp_${expiresAt} -j ACCEPT`,
    );
  }
  lines.push("COMMIT", "");
  await runChecked(["iptables-restore", "--noflush"], {
    netns: ns,
    input: lines.join("\n"),
    timeoutMs: 120_000,
  });
}

export const DIST_BENCH = fileURLToPath(new URL("..", import.meta.url));

/** Runs a one-shot agent (bench/agents/NAME.js) in `ns` and returns its JSON answer. */
export async function runAgent<T>(
  ns: string,
  name: string,
  job: object,
  timeoutMs: number,
): Promise<T> {
  const r = await runChecked(
    [process.execPath, `${DIST_BENCH}agents/${name}.js`, JSON.stringify(job)],
    { netns: ns, timeoutMs },
  );
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as T;
}

export interface Prober {
  /** The prober's process id (`ip netns exec` execs it). */
  readonly pid: number;
  ask<T extends object>(cmd: object): Promise<T & { ok: boolean; error?: string }>;
  close(): void;
}

/**
 * Starts the long-lived latency prober in the client namespace; it knocks at the server and
 * connects to `connectHost` (default: the server too).
 */
export async function startProber(
  pair: Pick<NetnsPair, "client" | "serverIp">,
  keys: BenchKeys,
  connectHost?: string,
): Promise<Prober> {
  const setup = {
    host: pair.serverIp,
    ...(connectHost ? { connectHost } : {}),
    spaPort: SPA_PORT,
    hiddenPort: HIDDEN_PORT,
    keys,
  };
  const child = track(
    spawn(
      "ip",
      [
        "netns",
        "exec",
        pair.client,
        process.execPath,
        `${DIST_BENCH}agents/prober.js`,
        JSON.stringify(setup),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    ),
  );
  const pending: ((line: string) => void)[] = [];
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  rl.on("line", (l) => pending.shift()?.(l));
  const ready = new Promise<void>((resolve, reject) => {
    pending.push(() => resolve());
    child.once("exit", (c) => reject(new Error(`prober exited (${c})`)));
  });
  // A prober that dies answers every open question with an error instead of hanging.
  child.once("exit", () => {
    for (const p of pending.splice(0)) p('{"ok":false,"error":"prober exited"}');
  });
  await ready;
  return {
    pid: child.pid ?? -1,
    ask<T extends object>(cmd: object) {
      return new Promise<T & { ok: boolean; error?: string }>((resolve) => {
        pending.push((l) => resolve(JSON.parse(l) as T & { ok: boolean; error?: string }));
        child.stdin?.write(`${JSON.stringify(cmd)}\n`);
      });
    },
    close() {
      child.stdin?.end();
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    },
  };
}

/** Datagram counters of the server namespace (delivered to a socket / dropped for lack of buffer). */
export async function udpCounters(
  ns: string,
): Promise<{ inDatagrams: number; rcvbufErrors: number }> {
  const snmp = (await runChecked(["cat", "/proc/net/snmp"], { netns: ns })).stdout.split("\n");
  const [head, vals] = snmp.filter((l) => l.startsWith("Udp:")).map((l) => l.split(/\s+/));
  const get = (k: string) => Number(vals?.[head?.indexOf(k) ?? -1] ?? Number.NaN);
  return { inDatagrams: get("InDatagrams"), rcvbufErrors: get("RcvbufErrors") };
}

/** Bytes queued on the UDP sockets bound to `port` in `ns` (rx_queue of /proc/net/udp). */
export async function udpQueueBytes(ns: string, port: number): Promise<number> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const table = (await runChecked(["cat", "/proc/net/udp"], { netns: ns })).stdout.split("\n");
  let total = 0;
  for (const line of table.slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (!cols[1]?.endsWith(suffix)) continue;
    total += Number.parseInt(cols[4]?.split(":")[1] ?? "0", 16);
  }
  return total;
}
