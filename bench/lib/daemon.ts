/**
 * One fwknopd under benchmark (ours or the C 2.6.10 one), in the foreground inside a namespace.
 * Unlike the test helper it never keeps the whole log: the fuzzer and the floods make millions
 * of lines, so it streams lines into counters, a set of granted IPs and a short tail.
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { C_FWKNOPD, daemonArgv, OUR_FWKNOPD, writeConfigDir } from "../../test/helpers/daemon.js";
import { vethDevice } from "../../test/helpers/netns.js";
import { track } from "./reaper.js";

/**
 * Our daemon in its default chain mode (iptables, one rule per grant), ours with
 * ENABLE_IPT_IPSET Y, ours with FIREWALL_TYPE nftables (kernel-timed sets), and fwknopd 2.6.10.
 */
export type DaemonKind = "ours" | "ours-ipset" | "ours-nft" | "c";

export const DAEMON_KINDS: readonly DaemonKind[] = ["ours", "ours-ipset", "ours-nft", "c"];

export const DAEMON_BINARY: Record<DaemonKind, string> = {
  ours: OUR_FWKNOPD,
  "ours-ipset": OUR_FWKNOPD,
  "ours-nft": OUR_FWKNOPD,
  c: C_FWKNOPD,
};

/**
 * Variants that differ from "ours" only in the iptables layout: only firewall-bound scenarios
 * run them. The nftables variant is a firewall of its own (another tool, another packet path
 * through the kernel) and runs in every scenario where a firewall is involved.
 */
export function firewallVariant(kind: DaemonKind): boolean {
  return kind === "ours-ipset";
}

/** Config lines that select each variant's firewall. */
const KIND_CONF: Record<DaemonKind, Record<string, string>> = {
  ours: {},
  "ours-ipset": { ENABLE_IPT_IPSET: "Y" },
  "ours-nft": { FIREWALL_TYPE: "nftables" },
  c: {},
};

/** The variable that keeps (N) or flushes (Y) the firewall's grants at start, per variant. */
export function flushAtInitVariable(kind: DaemonKind): string {
  return kind === "ours-nft" ? "FLUSH_NFT_AT_INIT" : "FLUSH_IPT_AT_INIT";
}

/** Both daemons log this line once per rule they add (upstream wording). */
const ADDED = /Added access rule to FWKNOP_INPUT for (\S+) /;
/** Both daemons' start lines, UDP-server mode and sniffing mode. */
const READY = {
  udp: /Kicking off UDP server to listen on port/,
  pcap: /Starting fwknopd main event loop/,
} as const;

export interface BenchDaemon {
  pid: number;
  /** Allow-IPs with an "Added access rule" line so far. */
  granted: Set<string>;
  tail(): string;
  /** Resolves with the first line from now on that matches `re`; undefined on timeout. */
  nextLine(re: RegExp, timeoutMs: number): Promise<string | undefined>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would end it (no exit cleanup); resolves when it is gone. */
  kill9(): Promise<void>;
}

export interface StartBench {
  kind: DaemonKind;
  netns: string;
  conf: Record<string, string>;
  access: string;
  readyTimeoutMs?: number;
  /** UDP-server mode (default) or sniffing the server's veth (pcap mode, upstream's default). */
  capture?: "udp" | "pcap";
}

export async function startBenchDaemon(o: StartBench): Promise<BenchDaemon> {
  const capture = o.capture ?? "udp";
  const conf = {
    ...o.conf,
    ...KIND_CONF[o.kind],
    ...(capture === "pcap"
      ? {
          ENABLE_UDP_SERVER: "N",
          PCAP_INTF: await vethDevice(o.netns),
          PCAP_FILTER: "udp port 62201",
        }
      : {}),
  };
  const cfg = writeConfigDir(conf, o.access);
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles our daemons live (Node refuses
  // --cpu-prof in NODE_OPTIONS, and that would profile every helper too).
  const nodeArgs =
    o.kind === "c" ? [] : (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const argv = [
    ...(nodeArgs.length > 0 ? [process.execPath, ...nodeArgs] : []),
    ...daemonArgv(DAEMON_BINARY[o.kind], cfg),
  ];
  // `ip netns exec` execs the daemon, so the child's pid is the daemon's pid.
  const proc = track(
    spawn("ip", ["netns", "exec", o.netns, ...argv], { stdio: ["ignore", "pipe", "pipe"] }),
  );
  const granted = new Set<string>();
  const tail: string[] = [];
  const waiters = new Set<{ re: RegExp; done: (l: string | undefined) => void }>();
  const onLine = (l: string) => {
    tail.push(l);
    if (tail.length > 40) tail.shift();
    const m = ADDED.exec(l);
    if (m?.[1]) granted.add(m[1]);
    for (const w of waiters) if (w.re.test(l)) w.done(l);
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", onLine);
  }
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const d: BenchDaemon = {
    pid: proc.pid ?? -1,
    granted,
    tail: () => tail.join("\n"),
    alive: () => proc.exitCode === null && proc.signalCode === null,
    nextLine(re, timeoutMs) {
      return new Promise((resolve) => {
        const w = {
          re,
          done: (l: string | undefined) => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(l);
          },
        };
        const timer = setTimeout(() => w.done(undefined), timeoutMs);
        waiters.add(w);
        void exited.then(() => w.done(undefined));
      });
    },
    async kill9() {
      if (d.alive()) proc.kill("SIGKILL");
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (d.alive()) {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(cfg.dir, { recursive: true, force: true });
    },
  };
  const ready = await d.nextLine(READY[capture], o.readyTimeoutMs ?? 60_000);
  if (!ready) {
    await d.stop(1000);
    throw new Error(`${o.kind} fwknopd did not start; log tail:\n${d.tail()}`);
  }
  return d;
}

export interface ProcUsage {
  rssKb: number;
  /** user + system CPU time in seconds */
  cpuSec: number;
}

/** RSS and CPU time of a live process, from /proc. */
export function procUsage(pid: number): ProcUsage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { rssKb: kb("VmRSS"), cpuSec: ticks / 100 };
}
