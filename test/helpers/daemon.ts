/**
 * Starts fwknopd (ours, or the C 2.6.10 one) with a throw-away configuration, optionally inside
 * a network namespace, and follows its log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";
import { EVENT_BOUND_MS } from "./wait.js";

/** Temp dirs this process made; removed when it exits (tests may reuse one across restarts). */
const tempDirs: string[] = [];
process.on("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export const OUR_FWKNOPD = fileURLToPath(new URL("../../../bin/fwknopd", import.meta.url));
export const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
export const C_FWKNOPD = "/usr/sbin/fwknopd";
export const C_FWKNOP = "/usr/bin/fwknop";

export interface Keys {
  /** base64 Rijndael key */
  key: string;
  /** base64 HMAC key */
  hmac: string;
}

export function randomKeys(): Keys {
  return { key: randomBytes(32).toString("base64"), hmac: randomBytes(64).toString("base64") };
}

export interface ConfigDir {
  dir: string;
  confFile: string;
  accessFile: string;
  digestFile: string;
  pidFile: string;
  runDir: string;
}

/** Writes fwknopd.conf (UDP server mode, private run dir) and access.conf into a temp dir. */
export function writeConfigDir(conf: Record<string, string>, access: string): ConfigDir {
  const dir = tempDir("fwk-test-");
  const runDir = join(dir, "run");
  const c: ConfigDir = {
    dir,
    confFile: join(dir, "fwknopd.conf"),
    accessFile: join(dir, "access.conf"),
    digestFile: join(runDir, "digest.cache"),
    pidFile: join(runDir, "fwknopd.pid"),
    runDir,
  };
  const all: Record<string, string> = {
    ENABLE_UDP_SERVER: "Y",
    FWKNOP_RUN_DIR: runDir,
    ACCESS_FILE: c.accessFile,
    ...conf,
  };
  writeFileSync(
    c.confFile,
    Object.entries(all)
      .map(([k, v]) => `${k}    ${v};\n`)
      .join(""),
    { mode: 0o600 },
  );
  writeFileSync(c.accessFile, access, { mode: 0o600 });
  return c;
}

export function accessStanza(
  keys: Keys,
  extra: Record<string, string> = {},
  source = "ANY",
): string {
  const vars: Record<string, string> = {
    KEY_BASE64: keys.key,
    HMAC_KEY_BASE64: keys.hmac,
    ...extra,
  };
  return `SOURCE    ${source}\n${Object.entries(vars)
    .map(([k, v]) => `${k}    ${v}\n`)
    .join("")}\n`;
}

export interface RunningDaemon {
  proc: ChildProcess;
  cfg: ConfigDir;
  /** Everything the daemon wrote to stderr/stdout so far. */
  output(): string;
  /**
   * Resolves with the first log line matching `re`; only output after character `since` counts
   * (pass `output().length` taken before an action to wait for that action's line).
   */
  waitForLog(re: RegExp, timeoutMs?: number, since?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface StartOptions {
  binary?: string;
  netns?: string;
  args?: string[];
  /** argv prefix run before everything (e.g. a private mount namespace, see syslog-capture). */
  wrap?: string[];
  /** Extra environment variables for the daemon (e.g. NOTIFY_SOCKET). */
  env?: Record<string, string>;
  /** Log line that means "ready" (default: the UDP server start line). */
  readyLog?: RegExp;
  /** Bound for the ready line (default 15 s; firewall-cmd based starts are slower under load). */
  readyTimeoutMs?: number;
  /** The whole command line, instead of daemonArgv(binary, cfg) + args (e.g. in a chroot). */
  argv?: readonly string[];
}

/** A foreground fwknopd (ours or the C one) on the files of `cfg`. */
export function daemonArgv(binary: string, cfg: ConfigDir): string[] {
  return [
    binary,
    "-f",
    "-c",
    cfg.confFile,
    "-a",
    cfg.accessFile,
    "-d",
    cfg.digestFile,
    "-p",
    cfg.pidFile,
  ];
}

export async function startDaemon(cfg: ConfigDir, opts: StartOptions = {}): Promise<RunningDaemon> {
  const argv = opts.argv ?? [...daemonArgv(opts.binary ?? OUR_FWKNOPD, cfg), ...(opts.args ?? [])];
  const inNs = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : argv;
  const full = [...(opts.wrap ?? []), ...inNs];
  const proc = spawn(full[0] as string, full.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  let text = "";
  const waiters: { re: RegExp; since: number; resolve: (l: string) => void }[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) {
      const line = findLine(text.slice(w.since), w.re);
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const d: RunningDaemon = {
    proc,
    cfg,
    output: () => text,
    exited,
    waitForLog(re, timeoutMs = 30_000, since = 0) {
      const line = findLine(text.slice(since), re);
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; log:\n${text}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          since,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`daemon exited (${code}) before logging ${re}; log:\n${text}`));
        });
      });
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  try {
    // Generous: starting Node on a machine whose cores are busy takes a while.
    await d.waitForLog(
      opts.readyLog ?? /Kicking off UDP server/,
      opts.readyTimeoutMs ?? EVENT_BOUND_MS,
    );
  } catch (e) {
    // A daemon that never became ready must not outlive the test (nor keep it running).
    proc.kill("SIGKILL");
    throw e;
  }
  return d;
}

function findLine(text: string, re: RegExp): string | undefined {
  return text.split("\n").find((l) => re.test(l));
}

export interface KnockOptions {
  /** Client binary: the C fwknop 2.6.10 (default) or ours. */
  binary?: string;
  /** Port opened with -A tcp/PORT. */
  port: number;
  /** Extra options, e.g. ["--time-offset-minus", "5m"]. */
  extra?: string[];
  /** `-s` (allow-IP 0.0.0.0: the server takes the packet's source) instead of `-a clientIp`. */
  sourceAddress?: boolean;
}

/**
 * Knocks from the client namespace of `pair` with a private rc file; returns the wire string
 * it sent (saved with -B), so tests can replay it.
 */
export async function knock(
  pair: { client: string; clientIp: string; serverIp: string },
  keys: Keys,
  opts: KnockOptions,
): Promise<string> {
  const dir = tempDir("fwk-knock-");
  const save = join(dir, "packet");
  const argv = [
    opts.binary ?? C_FWKNOP,
    "--rc-file",
    join(dir, "fwknoprc"),
    "--no-save-args",
    "-A",
    `tcp/${opts.port}`,
    ...(opts.sourceAddress ? ["-s"] : ["-a", pair.clientIp]),
    "-D",
    pair.serverIp,
    "--key-base64-rijndael",
    keys.key,
    "--key-base64-hmac",
    keys.hmac,
    "--use-hmac",
    "-B",
    save,
    ...(opts.extra ?? []),
  ];
  const r = await run(argv, { netns: pair.client });
  if (r.code !== 0) throw new Error(`${argv[0]} exited with ${r.code}: ${r.stderr}${r.stdout}`);
  return readFileSync(save, "utf8").trim();
}
