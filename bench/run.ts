/**
 * The benchmark command: every scenario against our fwknopd and the C fwknopd 2.6.10, same run,
 * then docs/benchmarks.md + docs/benchmarks.svg. Needs root (namespaces, iptables inside them).
 *   node dist/bench/run.js [--quick] [--only throughput,latency,...] [--daemons ours,c] [--no-write]
 * Daemons: ours (iptables chain mode), ours-ipset, ours-nft (FIREWALL_TYPE nftables), c.
 * `--quick` runs every scenario in small (fewer levels, rates and samples): a smoke run that
 * checks the bench itself, not a measurement. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
 * starts our daemons with those Node options (live profiling).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { canUseNetns } from "../test/helpers/netns.js";
import { DAEMON_BINARY, DAEMON_KINDS, type DaemonKind } from "./lib/daemon.js";
import "./lib/reaper.js";
import { keepFootprintSection } from "./lib/footprint-section.js";
import { renderMarkdown, renderSvg } from "./lib/report.js";
import type { Measurement, Scenario } from "./lib/result.js";
import { capacity } from "./scenarios/capacity.js";
import { capture } from "./scenarios/capture.js";
import { cluster } from "./scenarios/cluster.js";
import { expiry } from "./scenarios/expiry.js";
import { idle } from "./scenarios/idle.js";
import { junk } from "./scenarios/junk.js";
import { latency } from "./scenarios/latency.js";
import { metrics } from "./scenarios/metrics.js";
import { replay } from "./scenarios/replay.js";
import { throughput } from "./scenarios/throughput.js";

const SCENARIOS: Record<string, Scenario> = {
  throughput,
  latency,
  junk,
  capacity,
  expiry,
  replay,
  idle,
  capture,
  cluster,
  metrics,
};
const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    daemons: { type: "string", default: DAEMON_KINDS.join(",") },
    "no-write": { type: "boolean", default: false },
  },
});

function sh(argv: string[]): string {
  try {
    return execFileSync(argv[0] as string, argv.slice(1), { encoding: "utf8" }).trim();
  } catch (e) {
    return `unknown (${(e as Error).message.split("\n")[0]})`;
  }
}

function facts(): [string, string][] {
  return [
    ["CPU", `${cpus()[0]?.model ?? "unknown"} × ${sh(["nproc"])} (nproc)`],
    ["Kernel", release()],
    ["Node.js", process.version],
    ["C daemon", sh([DAEMON_BINARY.c, "--version"]).split("\n")[0] ?? ""],
    ["iptables", sh(["iptables", "--version"])],
    [
      "Memory",
      `${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) / 1024)} MB`,
    ],
  ];
}

async function main(): Promise<number> {
  if (!canUseNetns()) {
    process.stderr.write("bench: needs root and iproute2 (ip netns)\n");
    return 2;
  }
  const kinds = (values.daemons ?? "")
    .split(",")
    .filter((k): k is DaemonKind => (DAEMON_KINDS as readonly string[]).includes(k));
  for (const k of kinds) {
    if (!existsSync(DAEMON_BINARY[k])) {
      process.stderr.write(`bench: ${DAEMON_BINARY[k]} is missing\n`);
      return 2;
    }
  }
  const names = values.only ? values.only.split(",") : Object.keys(SCENARIOS);
  const started = Date.now();
  const log = (m: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const results: Measurement[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const scenario = SCENARIOS[name];
    if (!scenario) {
      process.stderr.write(
        `bench: unknown scenario '${name}' (known: ${Object.keys(SCENARIOS).join(", ")})\n`,
      );
      return 2;
    }
    log(`scenario ${name}`);
    try {
      results.push(...(await scenario({ kinds, quick: values.quick ?? false, log })));
    } catch (e) {
      // One broken scenario must not cost the figures of the others.
      errors.push(`${name}: ${(e as Error).message.split("\n")[0]}`);
      log(`scenario ${name} failed: ${(e as Error).stack}`);
    }
  }
  const cmdline = `bash bench/run.sh${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
  const info = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    durationS: (Date.now() - started) / 1000,
    facts: facts(),
    command: cmdline,
    notes: existsSync(repo("bench/notes.md")) ? readFileSync(repo("bench/notes.md"), "utf8") : "",
    errors,
  };
  process.stdout.write(`${JSON.stringify({ results, errors }, null, 1)}\n`);
  if (!values["no-write"]) {
    const previous = existsSync(repo("docs/benchmarks.md"))
      ? readFileSync(repo("docs/benchmarks.md"), "utf8")
      : "";
    // The start-up/footprint section is bench/footprint.ts's: kept as it is.
    writeFileSync(
      repo("docs/benchmarks.md"),
      keepFootprintSection(previous, renderMarkdown(results, info)),
    );
    writeFileSync(repo("docs/benchmarks.svg"), renderSvg(results));
    log("wrote docs/benchmarks.md and docs/benchmarks.svg");
  }
  return errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
