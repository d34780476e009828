/**
 * Waiting for an event instead of sleeping for a guess: tests poll a condition (a rule present,
 * a log line, a file) until it holds, with a generous upper bound so a loaded machine is slow
 * but never wrong. The bound is a failure limit, not a speed claim.
 */
import { setTimeout as sleep } from "node:timers/promises";

/** Generous default bound: far above anything a healthy run needs, even under CPU load. */
export const EVENT_BOUND_MS = 60_000;

/** Resolves once `cond()` is true; fails naming `what` after `boundMs`. Polls every `everyMs`. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  boundMs = EVENT_BOUND_MS,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
