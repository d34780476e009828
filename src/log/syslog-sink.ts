/**
 * Syslog delivery. Node 20 cannot open the AF_UNIX datagram socket /dev/log (node:dgram has
 * udp4/udp6 only), so messages go through one long-lived `logger(1)` child (util-linux,
 * Essential on Debian) fed one `<PRI>message` line each: it writes the same
 * `<PRI>Mmm dd hh:mm:ss ident[pid]: msg` datagram syslog(3) would with LOG_PID, where pid is
 * ours (`--id`), not logger's.
 *
 * Like syslog(3), a missing socket means messages are dropped, never that the daemon stops.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { LogSink } from "./create-logger.js";

/** Facility codes (syslog.h) for the SYSLOG_FACILITY values fwknopd accepts. */
export const SYSLOG_FACILITIES = {
  LOG_DAEMON: 3,
  LOG_LOCAL0: 16,
  LOG_LOCAL1: 17,
  LOG_LOCAL2: 18,
  LOG_LOCAL3: 19,
  LOG_LOCAL4: 20,
  LOG_LOCAL5: 21,
  LOG_LOCAL6: 22,
  LOG_LOCAL7: 23,
} as const;

export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

export interface SyslogSinkOptions {
  identity: string;
  facility: SyslogFacility;
  /** Default /dev/log. */
  socketPath?: string;
  /** Reported once per outage (socket missing, logger gone); the sink keeps trying. */
  onProblem?: (msg: string) => void;
}

/** Queued bytes beyond which messages are dropped rather than buffered without bound. */
const MAX_QUEUED_BYTES = 1 << 20;
/** How long to wait before trying again after the socket was missing or logger died. */
const RETRY_MS = 10_000;

export function createSyslogSink(opts: SyslogSinkOptions): LogSink {
  const socketPath = opts.socketPath ?? "/dev/log";
  const facility = SYSLOG_FACILITIES[opts.facility];
  let child: ChildProcess | undefined;
  let retryAt = 0;
  let problemReported = false;
  let dropped = 0;

  const problem = (msg: string) => {
    if (!problemReported) opts.onProblem?.(msg);
    problemReported = true;
  };

  const start = (): ChildProcess | undefined => {
    if (Date.now() < retryAt) return undefined;
    if (!existsSync(socketPath)) {
      retryAt = Date.now() + RETRY_MS;
      problem(`syslog socket ${socketPath} does not exist; syslog messages are dropped`);
      return undefined;
    }
    const c = spawn(
      "logger",
      ["--prio-prefix", "-t", opts.identity, `--id=${process.pid}`, "-u", socketPath],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    const errText: string[] = [];
    c.stderr?.on("data", (d: Buffer) => errText.push(d.toString()));
    c.stdin?.on("error", () => {});
    c.on("error", (e) => problem(`cannot run logger(1) for syslog: ${e.message}`));
    c.on("exit", (code) => {
      if (child === c) child = undefined;
      retryAt = Date.now() + RETRY_MS;
      if (code !== 0) {
        problem(`logger(1) exited with status ${code}: ${errText.join("").trim()}`);
      }
    });
    // A daemon exits when its work is done; the logging child must not keep it alive.
    c.unref();
    (c.stdin as { unref?: () => void } | null)?.unref?.();
    (c.stderr as { unref?: () => void } | null)?.unref?.();
    problemReported = false;
    return c;
  };

  return {
    write(severity, msg) {
      child ??= start();
      const stdin = child?.stdin;
      if (!stdin || stdin.destroyed) return;
      if (stdin.writableLength > MAX_QUEUED_BYTES) {
        dropped++;
        return;
      }
      const pri = facility * 8 + severity;
      let text = "";
      if (dropped > 0) {
        text += `<${facility * 8 + 4}>${dropped} log messages dropped (syslog too slow)\n`;
        dropped = 0;
      }
      // logger(1) sends one datagram per input line, so each line needs its own priority.
      for (const line of msg.split("\n")) if (line !== "") text += `<${pri}>${line}\n`;
      stdin.write(text);
    },
    close() {
      const c = child;
      child = undefined;
      if (!c?.stdin || c.exitCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          c.kill();
          resolve();
        }, 2000);
        c.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        c.stdin?.end();
      });
    },
  };
}
