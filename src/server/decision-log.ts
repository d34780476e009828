/**
 * Observation of pipeline decisions: the one place a final Decision is published. Counts every
 * outcome by code (the figures of the status line and of the Prometheus metrics, which read
 * them at scrape time: nothing else is done per packet for either) and logs it — with a rate
 * limit, so a flood of junk cannot turn the log into the bottleneck (or fill the disk).
 * Suppressed lines are summarised periodically so nothing is lost silently.
 */
import type { ErrorCode } from "../errors.js";
import { escapeLogText } from "../log/escape.js";
import { logEvent } from "../log/event.js";
import type { Logger } from "../log/logger.js";
import { stanzaOutcomeText } from "./c-phrases.js";
import type { Candidate } from "./intake/intake.js";
import type { Decision } from "./pipeline.js";

/** Codes for input that never looked like SPA: debug level only. */
const NOISE = new Set<ErrorCode>([
  "SPA_MSG_LEN_TOO_SMALL",
  "SPA_MSG_NOT_SPA_DATA",
  "SPA_MSG_BAD_DATA",
]);

export interface DecisionLogOptions {
  log: Logger;
  /** Rejection lines allowed per second before suppression starts. */
  perSecond?: number;
  /** Milliseconds between summaries of suppressed lines. */
  summaryMs?: number;
}

export class DecisionLog {
  readonly counts = new Map<string, number>();
  private readonly log: Logger;
  private readonly perSecond: number;
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(opts: DecisionLogOptions) {
    this.log = opts.log;
    this.perSecond = opts.perSecond ?? 50;
    this.timer = setInterval(() => this.flushSummary(), opts.summaryMs ?? 10_000);
    this.timer.unref();
  }

  record(c: Candidate, d: Decision): void {
    const key = d.ok ? "GRANTED" : d.code;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (d.ok) return; // the grant itself is logged by the ledger when the rule is in place
    // Details quote what the sender put in the packet (a port list, a user name): escaped.
    if (NOISE.has(d.code) && !d.authenticated) {
      this.log.debug(`Dropped packet from ${c.srcIp}: ${escapeLogText(d.detail)}`);
      return;
    }
    if (this.admit(d.code, c.receivedAt)) this.logRefusal(c, d);
  }

  /**
   * As fwknopd 2.6.10: per stanza tried, the info line "(stanza #N) SPA Packet from IP: …
   * received with access source match", then ONE warning line with the source IP, the stanza,
   * the reason and our code; refusals before any stanza (replay, no source match, precheck) are
   * one warning line too. Syslog filters written for 2.6.10 (daemon.warning) see them all.
   */
  private logRefusal(c: Candidate, d: Decision & { ok: false }): void {
    const ip = c.srcIp;
    const messageType = d.message?.messageType;
    const typed = messageType === undefined ? {} : { messageType };
    for (const o of d.outcomes) {
      logEvent(this.log, {
        level: "info",
        event: "spa.source-match",
        message: `(stanza #${o.stanza}) SPA Packet from IP: ${ip} received with access source match`,
        srcIp: ip,
        stanza: o.stanza,
      });
      logEvent(this.log, {
        level: "warn",
        event: "spa.refused",
        message: `[${ip}] (stanza #${o.stanza}) ${escapeLogText(stanzaOutcomeText(o.code, o.detail))} [${o.code}]`,
        code: o.code,
        srcIp: ip,
        stanza: o.stanza,
        ...typed,
      });
    }
    // Refused before any stanza (replay, no source match, precheck) or after the stanzas (the
    // NAT step): one line of its own. Replay and no-source-match details name the source already,
    // in 2.6.10's wording.
    if (d.outcomes.some((o) => o.code === d.code)) return;
    const detail = escapeLogText(d.detail);
    const text = detail.includes(ip) ? detail : `[${ip}] ${detail}`;
    logEvent(this.log, {
      level: "warn",
      event: "spa.refused",
      message: `${text} [${d.code}]`,
      code: d.code,
      srcIp: ip,
      ...typed,
    });
  }

  /**
   * The rate limit: whether a line for `code` may be logged (else it is counted). Windows follow
   * the packets' receive times, which the intake took anyway: no clock read per packet.
   */
  private admit(code: string, now: number): boolean {
    // A capture file's times may step back: a new window then, never a stuck one.
    if (now - this.windowStart >= 1000 || now < this.windowStart) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow++ < this.perSecond) return true;
    this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + 1);
    return false;
  }

  flushSummary(): void {
    if (this.suppressed.size === 0) return;
    const parts = [...this.suppressed].map(([code, n]) => `${code}=${n}`).join(", ");
    const total = [...this.suppressed.values()].reduce((a, b) => a + b, 0);
    this.log.warn(`Rate limit: ${total} rejected-packet log lines suppressed (${parts})`);
    this.suppressed = new Map();
  }

  close(): void {
    clearInterval(this.timer);
    this.flushSummary();
  }
}
