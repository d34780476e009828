/**
 * A throw-away redis-server (the Debian package) for cluster tests and benchmarks: its own temp
 * dir, no persistence (`--save ''`), a unix socket the harness talks to, and optionally TCP on a
 * given address (inside a namespace, for the gateways). Killed when the test process exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REDIS_SERVER = "/usr/bin/redis-server";

const live = new Set<ChildProcess>();
const dirs: string[] = [];
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export interface RedisOptions {
  /** Run inside this network namespace. */
  netns?: string;
  /** Listen on TCP here too (address, port); default: unix socket only. */
  tcp?: { host: string; port: number };
  /** More redis-server options (`--tls-port …`, `--user …`, `--cluster-enabled yes`). */
  args?: string[];
  /** A config file to load first (a sentinel needs one it can rewrite). */
  configFile?: string;
}

export interface RedisServer {
  /** unix:// URL of the socket (reachable from every namespace: it is a file). */
  socketUrl: string;
  socket: string;
  /** redis:// URL of the TCP listener, when asked for. */
  tcpUrl: string | undefined;
  /** Kills the server at once (SIGKILL: a crash, nothing saved). */
  kill(): Promise<void>;
  /** Starts it again on the same addresses, empty (no persistence). */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "fwk-redis-"));
  dirs.push(dir);
  const socket = join(dir, "redis.sock");
  const args = [
    ...(opts.configFile ? [opts.configFile] : []),
    "--port",
    String(opts.tcp?.port ?? 0),
    ...(opts.tcp ? ["--bind", opts.tcp.host, "--protected-mode", "no"] : []),
    "--unixsocket",
    socket,
    "--unixsocketperm",
    "700",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--loglevel",
    "notice",
    ...(opts.args ?? []),
  ];
  let proc: ChildProcess | undefined;
  const launch = async () => {
    const argv = opts.netns
      ? ["ip", "netns", "exec", opts.netns, REDIS_SERVER, ...args]
      : [REDIS_SERVER, ...args];
    const p = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    live.add(p);
    p.on("exit", () => live.delete(p));
    proc = p;
    await waitReady(p).catch((e: unknown) => {
      p.kill("SIGKILL");
      throw e;
    });
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await gone;
  };
  await launch();
  return {
    socket,
    socketUrl: `unix://${socket}`,
    tcpUrl: opts.tcp ? `redis://${opts.tcp.host}:${opts.tcp.port}` : undefined,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** Calls of each command a server has answered so far, from `INFO commandstats` text. */
export function commandCalls(info: string): Map<string, number> {
  return new Map(
    [...info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map((m) => [m[1] ?? "", Number(m[2])]),
  );
}

/** Resolves once the server says it accepts connections, or a sentinel that it monitors. */
function waitReady(p: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${text}`)), 20_000);
    const onData = (d: Buffer) => {
      text += d.toString();
      if (/[Rr]eady to accept connections|\+monitor master/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout?.on("data", onData);
    p.stderr?.on("data", onData);
    p.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${text}`));
    });
  });
}
