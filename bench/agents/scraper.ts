/**
 * Runs inside the server namespace: GETs a Prometheus endpoint every `intervalMs` for `seconds`,
 * as a Prometheus server would. argv[2] is a JSON ScrapeJob; prints one JSON line with the
 * number of scrapes, failures, the mean and worst scrape time (request sent → body read, wall
 * clock: it includes waiting for a busy daemon's event loop), and the last scrape's body size.
 */
export interface ScrapeJob {
  url: string;
  seconds: number;
  intervalMs: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as ScrapeJob;
// fetch() loads its HTTP client on first use (tens of ms on a loaded machine): load it before
// the timed loop, without a request to the daemon, so the first scrape's time is the daemon's.
await (await fetch("data:,warm")).text();
const times: number[] = [];
let failures = 0;
let bytes = 0;
const rounds = Math.max(1, Math.floor((job.seconds * 1000) / job.intervalMs));
for (let i = 0; i < rounds; i++) {
  const started = performance.now();
  try {
    const r = await fetch(job.url, { signal: AbortSignal.timeout(job.intervalMs * 5) });
    bytes = (await r.text()).length;
    if (!r.ok) failures++;
  } catch {
    failures++;
  }
  const took = performance.now() - started;
  times.push(took);
  await new Promise((r) => setTimeout(r, Math.max(0, job.intervalMs - took)));
}
const mean = times.reduce((a, b) => a + b, 0) / times.length;
process.stdout.write(
  `${JSON.stringify({ scrapes: times.length, failures, meanMs: mean, maxMs: Math.max(...times), bytes })}\n`,
);
