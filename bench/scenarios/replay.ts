/**
 * Scenario 5, replay cache start-up: digest.cache files with 100k and 1M entries in the upstream
 * format, loaded with `--exit-parse-digest-cache` under /usr/bin/time -v (peak RSS). All entries
 * are recent (inside MAX_SPA_PACKET_AGE), so a daemon that skips stale digests gets no shortcut.
 * An empty cache gives each daemon's bare start-up time, shown beside the figures.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/sys/run.js";
import { writeConfigDir } from "../../test/helpers/daemon.js";
import { createNetnsPair } from "../../test/helpers/netns.js";
import { DAEMON_BINARY, type DaemonKind, firewallVariant } from "../lib/daemon.js";
import { type Measurement, type ScenarioContext, setNote } from "../lib/result.js";
import { accessFor, newKeys } from "./common.js";

const SIZES = [100_000, 1_000_000];

/** Writes `entries` lines as fwknopd's file cache stores them (UDP-server addressing). */
export function writeDigestFile(path: string, entries: number, now: number): void {
  const fd = openSync(path, "w", 0o600);
  try {
    writeSync(fd, "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n");
    const chunk = 10_000;
    for (let base = 0; base < entries; base += chunk) {
      const n = Math.min(chunk, entries - base);
      const raw = randomBytes(32 * n);
      const lines: string[] = [];
      for (let j = 0; j < n; j++) {
        const i = base + j;
        const digest = raw
          .subarray(32 * j, 32 * j + 32)
          .toString("base64")
          .slice(0, 43);
        lines.push(
          `${digest} 17 198.18.${(i >> 8) & 255}.${i & 255} ${1024 + (i % 60_000)} 0.0.0.0 62201 ${now - (i % 60)}\n`,
        );
      }
      writeSync(fd, lines.join(""));
    }
  } finally {
    closeSync(fd);
  }
}

interface Load {
  seconds: number;
  maxRssMb: number;
}

async function load(kind: DaemonKind, ns: string, digestFile: string): Promise<Load> {
  const cfg = writeConfigDir({}, accessFor(newKeys()));
  const t0 = process.hrtime.bigint();
  const r = await run(
    [
      "/usr/bin/time",
      "-v",
      DAEMON_BINARY[kind],
      "-f",
      "--exit-parse-digest-cache",
      "-c",
      cfg.confFile,
      "-a",
      cfg.accessFile,
      "-d",
      digestFile,
      "-p",
      cfg.pidFile,
    ],
    { netns: ns, timeoutMs: 120_000 },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(cfg.dir, { recursive: true, force: true });
  if (r.code !== 0)
    throw new Error(
      `${kind} --exit-parse-digest-cache failed (${r.code}): ${r.stderr.slice(-800)}`,
    );
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  return { seconds, maxRssMb: kb / 1024 };
}

/**
 * Three loads: the fastest time (start-up time is noise-prone on a shared machine, and noise
 * only ever adds) and the median peak RSS.
 */
async function loadBest(kind: DaemonKind, ns: string, digestFile: string): Promise<Load> {
  const runs: Load[] = [];
  for (let i = 0; i < 3; i++) runs.push(await load(kind, ns, digestFile));
  const rss = runs.map((r) => r.maxRssMb).sort((a, b) => a - b);
  return { seconds: Math.min(...runs.map((r) => r.seconds)), maxRssMb: rss[1] as number };
}

export async function replay(ctx: ScenarioContext): Promise<Measurement[]> {
  const dir = mkdtempSync(join(tmpdir(), "fwk-bench-digests-"));
  // A namespace keeps even a daemon that misreads its options away from the host firewall.
  const pair = await createNetnsPair("replay");
  try {
    const now = Math.floor(Date.now() / 1000);
    const empty: Partial<Record<DaemonKind, Load>> = {};
    const emptyFile = join(dir, "empty.cache");
    for (const kind of ctx.kinds.filter((k) => !firewallVariant(k) && k !== "ours-nft")) {
      writeDigestFile(emptyFile, 0, now);
      empty[kind] = await loadBest(kind, pair.server, emptyFile);
    }
    const out: Measurement[] = [];
    for (const size of ctx.quick ? [100_000] : SIZES) {
      const file = join(dir, `digest-${size}.cache`);
      const label = `${size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`} digests on disk`;
      const big = size === 1_000_000;
      const row = (metric: string, unit: string, goal?: number): Measurement => ({
        scenario: "replay",
        condition: label,
        metric,
        unit,
        better: "lower",
        values: {},
        ...(big && goal !== undefined ? { goal: { op: "<=" as const, value: goal } } : {}),
      });
      const time = row("start-up time, whole process", "s");
      const timeCache = row("start-up time beyond an empty cache", "s", 0.25);
      const mem = row("peak RSS, whole process", "MB");
      const memCache = row("peak RSS beyond an empty cache", "MB", 48);
      for (const kind of ctx.kinds.filter((k) => !firewallVariant(k) && k !== "ours-nft")) {
        // The page cache is warm for every daemon: the file is rewritten just before each load.
        writeDigestFile(file, size, Math.floor(Date.now() / 1000));
        const r = await loadBest(kind, pair.server, file);
        ctx.log(`replay ${kind} ${label}: ${r.seconds.toFixed(3)} s, ${r.maxRssMb.toFixed(1)} MB`);
        time.values[kind] = r.seconds;
        mem.values[kind] = r.maxRssMb;
        const base = empty[kind];
        if (base) {
          timeCache.values[kind] = Math.max(0, r.seconds - base.seconds);
          memCache.values[kind] = Math.max(0, r.maxRssMb - base.maxRssMb);
          setNote(time, kind, `empty cache: ${base.seconds.toFixed(3)} s`);
          setNote(mem, kind, `empty cache: ${base.maxRssMb.toFixed(1)} MB`);
        }
      }
      out.push(time, timeCache, mem, memCache);
    }
    return out;
  } finally {
    await pair.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
