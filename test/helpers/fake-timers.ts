/**
 * Fake time for the grant ledger's unit tests: timers run on a monotonic clock that moves only
 * when the test calls advance(); the wall clock (now()) follows it, plus whatever step() adds,
 * which stands for an NTP step or `date -s` (timers are not moved by it).
 */
import type { LedgerTimers } from "../../src/server/grants.js";

export class FakeTimers implements LedgerTimers {
  mono = 0;
  wallOffset: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  constructor(wallStartMs: number) {
    this.wallOffset = wallStartMs;
  }
  now = () => this.mono + this.wallOffset;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.mono + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  /** Milliseconds until each armed timer fires. */
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.mono);
  }
  /** Moves the wall clock only. */
  step(ms: number): void {
    this.wallOffset += ms;
  }
  /** Moves time forward, firing due timers in order, letting the ledger's batches run between. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.mono = Math.max(this.mono, due[1].at);
      due[1].fn();
      await settle();
    }
    this.mono = end;
    await settle();
  }
}

/** Lets queued batches (setImmediate + backend promises) run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
