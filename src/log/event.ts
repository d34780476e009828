/**
 * Structured log events: what happened, with stable fields, besides the text line. The text
 * logger prints `message`; the JSON logger (LOG_FORMAT json) prints every field. Field names
 * are part of the interface operators build on: add fields, never rename them.
 */
import type { Logger } from "./logger.js";

export type LogLevel = "error" | "warn" | "notice" | "info" | "debug";

export interface LogEvent {
  level: LogLevel;
  /** What happened, e.g. `spa.refused`, `spa.accepted`, `grant.added`, `grant.removed`. */
  event: string;
  /** The text line, exactly as the text format prints it. */
  message: string;
  /** Outcome code from the registry (src/errors.ts). */
  code?: string;
  srcIp?: string;
  stanza?: number;
  /** SPA message type number (spec §3). */
  messageType?: number;
  /** Requested or granted access, e.g. `tcp/22,udp/53`. */
  ports?: string;
  /** Unix seconds when the grant's rule expires. */
  expiry?: number;
  /** Identity of the firewall rule of a grant (stable across refreshes). */
  grantId?: string;
}

/** A Logger that can also take structured events (the JSON logger). */
export interface EventLogger extends Logger {
  event(e: LogEvent): void;
}

function isEventLogger(log: Logger): log is EventLogger {
  return typeof (log as Partial<EventLogger>).event === "function";
}

/** Logs `e`: as a structured event when the logger takes them, else as its text line. */
export function logEvent(log: Logger, e: LogEvent): void {
  if (isEventLogger(log)) log.event(e);
  else log[e.level](e.message);
}
