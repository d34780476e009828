/**
 * Builds the daemon's Logger (spec §12.4): in the foreground (-f) messages go to stderr, and
 * to syslog as well with --syslog-enable; in the background to syslog only. The threshold is
 * upstream's: LOG_INFO plus the number of -v (and VERBOSE), so debug detail needs -v.
 */
import type { EventLogger, LogEvent, LogLevel } from "./event.js";
import { formatJsonEvent, plainEvent } from "./json-format.js";
import type { LogSink } from "./logger.js";
import { createStderrSink, type LineWriter } from "./stderr-sink.js";
import { createSyslogSink, SYSLOG_FACILITIES, type SyslogFacility } from "./syslog-sink.js";

/** syslog(3) severities; the Logger methods map onto them one to one. */
export const SEVERITY = { error: 3, warn: 4, notice: 5, info: 6, debug: 7 } as const;

export interface LoggerOptions {
  /** -f: log to stderr (and not to syslog unless `syslog`). */
  foreground: boolean;
  /** --syslog-enable: in the foreground, log to syslog too. Background always uses syslog. */
  syslog: boolean;
  /** SYSLOG_IDENTITY (default "fwknopd"). */
  identity: string;
  /** SYSLOG_FACILITY: LOG_DAEMON or LOG_LOCAL0..7; anything else falls back to LOG_DAEMON. */
  facility: string;
  /** Number of -v plus VERBOSE; 0 shows error..info, 1 adds debug. */
  verbosity: number;
  /** LOG_FORMAT: upstream's text lines (default) or one JSON object per event. */
  format?: "text" | "json";
  /** For tests: where stderr lines go, and which socket syslog uses. */
  stderr?: LineWriter;
  syslogSocket?: string;
}

export function createLogger(opts: LoggerOptions): EventLogger & { close(): Promise<void> } {
  const sinks: LogSink[] = [];
  const stderr = opts.foreground ? createStderrSink(opts.stderr) : undefined;
  if (stderr) sinks.push(stderr);
  const facility = toFacility(opts.facility);
  if (!opts.foreground || opts.syslog) {
    sinks.push(
      createSyslogSink({
        identity: opts.identity,
        facility: facility ?? "LOG_DAEMON",
        ...(opts.syslogSocket !== undefined ? { socketPath: opts.syslogSocket } : {}),
        // Only a foreground operator can see this; syslog cannot report on itself.
        onProblem: (msg) => stderr?.write(SEVERITY.warn, msg),
      }),
    );
  }
  const threshold = SEVERITY.info + Math.max(0, opts.verbosity);
  const json = opts.format === "json";
  const event = (e: LogEvent) => {
    const severity = SEVERITY[e.level];
    if (severity > threshold) return;
    const line = json ? formatJsonEvent(e, new Date()) : e.message;
    for (const s of sinks) s.write(severity, line);
  };
  const emit = (level: LogLevel) => {
    const severity = SEVERITY[level];
    return (msg: string) => {
      if (severity <= threshold) event(plainEvent(level, msg));
    };
  };
  const logger = {
    event,
    error: emit("error"),
    warn: emit("warn"),
    notice: emit("notice"),
    info: emit("info"),
    debug: emit("debug"),
    debugEnabled: SEVERITY.debug <= threshold,
    async close() {
      await Promise.all(sinks.map((s) => s.close()));
    },
  };
  if (facility === undefined) {
    logger.warn(`Unknown SYSLOG_FACILITY '${opts.facility}', using LOG_DAEMON.`);
  }
  return logger;
}

function toFacility(name: string): SyslogFacility | undefined {
  const upper = name.toUpperCase();
  return Object.hasOwn(SYSLOG_FACILITIES, upper) ? (upper as SyslogFacility) : undefined;
}
