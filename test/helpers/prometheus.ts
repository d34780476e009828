/**
 * A real Prometheus server (Debian package `prometheus`) for tests: started inside a network
 * namespace with a throw-away config and storage dir, scraping targets there every second, and
 * queried with `promtool query instant`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/sys/run.js";

export const PROMETHEUS = "/usr/bin/prometheus";
export const PROMTOOL = "/usr/bin/promtool";

export function missingPrometheus(): string | undefined {
  for (const p of [PROMETHEUS, PROMTOOL])
    if (!existsSync(p)) return `${p} is missing: apt-get install prometheus`;
  return undefined;
}

export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  url: string;
  /** Instant query; one sample per series. */
  query(expr: string): Promise<PromSample[]>;
  /** Polls `expr` until `ok` accepts the samples (bounded by timeoutMs). */
  waitFor(
    expr: string,
    ok: (s: PromSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(
  ns: string,
  targets: readonly string[],
  port = 19090,
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "fwk-prom-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: fwknopd",
      "    static_configs:",
      `      - targets: [${targets.map((t) => `'${t}'`).join(", ")}]`,
      "",
    ].join("\n"),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      PROMETHEUS,
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (expr: string): Promise<PromSample[]> => {
    const r = await run([PROMTOOL, "query", "instant", "-o", "json", url, expr], {
      netns: ns,
      timeoutMs: 20_000,
    });
    if (r.code !== 0) throw new Error(`promtool query failed (${r.code}): ${r.stderr}`);
    const parsed = JSON.parse(r.stdout) as { metric: Record<string, string>; value: unknown[] }[];
    return parsed.map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  };
  const waitFor: RunningPrometheus["waitFor"] = async (expr, ok, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    let last: PromSample[] | string = "nothing yet";
    while (Date.now() < until) {
      try {
        last = await query(expr);
        if (ok(last)) return last;
      } catch (e) {
        last = (e as Error).message;
      }
      if (proc.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(
      `${expr}: no acceptable answer within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${log}`,
    );
  };
  try {
    await waitFor("up", (s) => s.length > 0, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, query, waitFor, stop };
}

/** The body of `url` fetched from inside `ns` (our /metrics on that namespace's loopback). */
export async function fetchInNetns(ns: string, url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const r = await run([process.execPath, "-e", script], { netns: ns, timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`fetching ${url} in ${ns} failed: ${r.stderr}`);
  return r.stdout;
}
