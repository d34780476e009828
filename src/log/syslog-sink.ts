/**
 * Syslog delivery: `<PRI>Mmm dd hh:mm:ss ident[pid]: msg` datagrams on /dev/log, what
 * syslog(3) sends with LOG_PID. Node 20 cannot open an AF_UNIX datagram socket (node:dgram
 * has udp4/udp6 only), so:
 * - with the optional `unix-dgram` addon installed, we send the datagrams ourselves;
 * - without it, one long-lived `logger(1)` child (util-linux, Essential on Debian) is fed one
 *   `<PRI>message` line per datagram and writes the same format, with our PID (`--id`).
 * Either way one message is one datagram, so one entry: a multi-line message keeps its
 * newlines in the datagram (as syslog(3) sends it; rsyslog stores them as `#012`), and through
 * logger(1), which reads one message per line, they are written as that same `#012`.
 *
 * Like syslog(3), a missing socket means messages are dropped, never that the daemon stops.
 */

import { existsSync } from "node:fs";
import { getSystemErrorName } from "node:util";
import { FwknopError } from "../errors.js";
import { type LongLivedChild, startChild } from "../sys/child.js";
import { loadUnixDgram, type UnixDgramModule, type UnixDgramSocket } from "../sys/unix-dgram.js";
import type { LogSink } from "./logger.js";

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
  /** Default "auto": unix-dgram when installed, else logger(1). */
  transport?: "auto" | "unix-dgram" | "logger";
}

/** Queued bytes beyond which messages are dropped rather than buffered without bound. */
const MAX_QUEUED_BYTES = 1 << 20;
/** How long to wait before trying again after the socket was missing or logger died. */
const RETRY_MS = 10_000;

export function createSyslogSink(opts: SyslogSinkOptions): LogSink {
  const wanted = opts.transport ?? "auto";
  const addon = wanted === "logger" ? undefined : loadUnixDgram();
  if (addon) return createDatagramSink(addon, opts);
  if (wanted === "unix-dgram")
    throw new FwknopError("FWK_ERR_INTERNAL", "the unix-dgram package is not installed");
  return createLoggerSink(opts);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** syslog(3)'s local-time stamp, `%h %e %T`: "Nov  7 09:05:03". */
export function rfc3164Stamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

/**
 * One socket per message: unix-dgram's socket has no unref(), so a long-lived one would keep
 * the process from exiting; sending is synchronous, so nothing is lost at a fatal exit.
 */
function createDatagramSink(addon: UnixDgramModule, opts: SyslogSinkOptions): LogSink {
  const socketPath = opts.socketPath ?? "/dev/log";
  const facility = SYSLOG_FACILITIES[opts.facility];
  let failing = false;
  let dropped = 0;
  return {
    write(severity, msg) {
      const head = `${rfc3164Stamp(new Date())} ${opts.identity}[${process.pid}]: `;
      const body = msg.replace(/\n+$/, "");
      if (body === "") return;
      const texts = [`<${facility * 8 + severity}>${head}${body}`];
      if (dropped > 0 && !failing) {
        texts.unshift(
          `<${facility * 8 + 4}>${head}${dropped} log messages dropped (syslog unavailable)`,
        );
        dropped = 0;
      }
      let socket: UnixDgramSocket;
      try {
        socket = addon.createSocket("unix_dgram");
      } catch (e) {
        dropped++;
        if (!failing) opts.onProblem?.(`cannot open a syslog socket: ${(e as Error).message}`);
        failing = true;
        return;
      }
      socket.on("error", () => {});
      for (const text of texts) {
        const buf = Buffer.from(text);
        socket.send(buf, 0, buf.length, socketPath, (err) => {
          if (!err) {
            failing = false;
            return;
          }
          dropped++;
          // One report per outage (no listener, socket gone, receiver congested).
          if (!failing)
            opts.onProblem?.(`cannot send to syslog socket ${socketPath}: ${errName(err)}`);
          failing = true;
        });
      }
      socket.close();
    },
    close: () => Promise.resolve(),
  };
}

/** unix-dgram reports errors as negative errno numbers ("send -2"); name them ("ENOENT"). */
function errName(err: Error): string {
  const n = (err as { errno?: unknown }).errno;
  if (typeof n !== "number") return err.message;
  try {
    return getSystemErrorName(n);
  } catch {
    return err.message;
  }
}

function createLoggerSink(opts: SyslogSinkOptions): LogSink {
  const socketPath = opts.socketPath ?? "/dev/log";
  const facility = SYSLOG_FACILITIES[opts.facility];
  let child: LongLivedChild | undefined;
  let retryAt = 0;
  let problemReported = false;
  let dropped = 0;

  const problem = (msg: string) => {
    if (!problemReported) opts.onProblem?.(msg);
    problemReported = true;
  };

  const start = (): LongLivedChild | undefined => {
    if (Date.now() < retryAt) return undefined;
    if (!existsSync(socketPath)) {
      retryAt = Date.now() + RETRY_MS;
      problem(`syslog socket ${socketPath} does not exist; syslog messages are dropped`);
      return undefined;
    }
    // A daemon exits when its work is done; the logging child must not keep it alive.
    const c = startChild(
      ["logger", "--prio-prefix", "-t", opts.identity, `--id=${process.pid}`, "-u", socketPath],
      { pipes: { stdin: true, stderr: true }, unref: true },
    );
    const errText: string[] = [];
    c.stderr?.on("data", (d: Buffer) => errText.push(d.toString()));
    void c.exited.then(({ code, error }) => {
      if (child === c) child = undefined;
      retryAt = Date.now() + RETRY_MS;
      if (error) problem(`cannot run logger(1) for syslog: ${error.message}`);
      else if (code !== 0) {
        problem(`logger(1) exited with status ${code}: ${errText.join("").trim()}`);
      }
    });
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
      // logger(1) sends one datagram per input line: a message's own newlines become #012.
      const body = msg.replace(/\n+$/, "").replaceAll("\n", "#012");
      if (body !== "") text += `<${pri}>${body}\n`;
      if (text !== "") stdin.write(text);
    },
    close() {
      const c = child;
      child = undefined;
      if (!c?.stdin || !c.running) return Promise.resolve();
      return c.stop({ ask: "end-stdin", graceMs: 2000 }).then(() => {});
    },
  };
}
