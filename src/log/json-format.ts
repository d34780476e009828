/**
 * LOG_FORMAT json: one JSON object per event, one line each (newlines inside a message are
 * escaped by JSON, so the -v field dump stays one line too). Field names are stable; see
 * docs/observability.md. Plain log calls become `{"event":"log", ...}`.
 *
 * Why not pino: our text lines must stay byte-identical to 2.6.10's (scripts grep them), syslog
 * needs one datagram per line with that line's priority, and the rate limiter sits before the
 * sinks; pino has no text format of its own (pino-pretty prints a different layout) and its
 * worker-thread transports would add a second path to syslog. A JSON.stringify per event is all
 * the JSON side needs.
 */
import type { LogEvent, LogLevel } from "./event.js";

/** The JSON line for `e` at `time`; fields without a value are left out. */
export function formatJsonEvent(e: LogEvent, time: Date): string {
  const { level, event, message, ...rest } = e;
  const fields: Record<string, unknown> = { time: time.toISOString(), level, event };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) fields[k] = v;
  fields.message = message;
  return JSON.stringify(fields);
}

export function plainEvent(level: LogLevel, message: string): LogEvent {
  return { level, event: "log", message };
}
