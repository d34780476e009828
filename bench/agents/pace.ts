/**
 * Open-loop pacing for the sender agents: calls `emit(i)` so that after t seconds about
 * rate × t calls have happened, in bounded batches per event-loop turn so sockets can drain.
 */
export interface PaceResult {
  sent: number;
  elapsedMs: number;
}

export function pace(
  count: number,
  ratePerSec: number,
  emit: (i: number) => void,
  maxBatch = 256,
  opts: { maxMs?: number } = {},
): Promise<PaceResult> {
  const start = performance.now();
  let i = 0;
  return new Promise((resolve) => {
    const tick = () => {
      // A rate above what the sender can reach ends on time, not on count.
      if (opts.maxMs !== undefined && performance.now() - start >= opts.maxMs) {
        resolve({ sent: i, elapsedMs: performance.now() - start });
        return;
      }
      const due = Math.min(
        count,
        Math.floor(((performance.now() - start) / 1000) * ratePerSec) + 1,
      );
      const stop = Math.min(due, i + maxBatch);
      while (i < stop) emit(i++);
      if (i >= count) resolve({ sent: i, elapsedMs: performance.now() - start });
      else if (i < due) setImmediate(tick);
      else setTimeout(tick, Math.max(0, (i / ratePerSec) * 1000 - (performance.now() - start) - 1));
    };
    tick();
  });
}
