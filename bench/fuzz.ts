/**
 * The fuzz command: drives ≥ 1M hostile UDP packets (bit flips, truncations, field swaps,
 * random base64 and bytes, oversized datagrams, prefix tricks, validly signed garbage) at a
 * live fwknopd in a namespace, with a valid control knock every 10,000 cases.
 * Pass: daemon alive and granting a final valid knock, 0 grants outside the control range,
 * FWKNOP_INPUT holding exactly the control grants, RSS flat.
 *   node dist/bench/fuzz.js [--cases 1000000] [--rate 8000] [--daemon ours|c] [--seed N] [--write-docs]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runChecked } from "../src/sys/run.js";
import { grantIp } from "../test/helpers/bench-knock.js";
import type { FuzzReport } from "./agents/fuzzer.js";
import { type DaemonKind, procUsage, startBenchDaemon } from "./lib/daemon.js";
import { createBenchNet, HIDDEN_PORT, runAgent, SPA_PORT, udpCounters } from "./lib/net.js";
import "./lib/reaper.js";
import { accessFor, newKeys, settle } from "./scenarios/common.js";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "1000000" },
    rate: { type: "string", default: "8000" },
    daemon: { type: "string", default: "ours" },
    seed: { type: "string" },
    "write-docs": { type: "boolean", default: false },
  },
});
const cases = Number(values.cases);
const rate = Number(values.rate);
const kind = values.daemon as DaemonKind;
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const CONTROL_EVERY = 10_000;

async function main(): Promise<number> {
  const keys = newKeys();
  const net = await createBenchNet();
  const started = Date.now();
  try {
    const d = await startBenchDaemon({
      kind,
      netns: net.pair.server,
      conf: {},
      access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
    });
    try {
      const rss: number[] = [];
      const sampler = setInterval(() => {
        if (d.alive()) rss.push(procUsage(d.pid).rssKb / 1024);
      }, 2000);
      const before = await udpCounters(net.pair.server);
      const target = { host: net.pair.serverIp, port: SPA_PORT, hiddenPort: HIDDEN_PORT, keys };
      const report = await runAgent<FuzzReport>(
        net.pair.client,
        "fuzzer",
        { ...target, cases, rate, seed, controlEvery: CONTROL_EVERY },
        (cases / rate) * 1000 * 2 + 120_000,
      );
      await settle(() => d.granted.size, report.controls, 5000, 60_000);
      // The closing proof of life: one more valid knock, granted within 15 s.
      const finalIp = grantIp(report.controls);
      const granted = d.nextLine(new RegExp(`for ${finalIp.replaceAll(".", "\\.")} `), 15_000);
      await runAgent(
        net.pair.client,
        "sender",
        { ...target, first: report.controls, count: 1, rate: 1 },
        30_000,
      );
      const finalGranted = (await granted) !== undefined;
      clearInterval(sampler);
      const after = await udpCounters(net.pair.server);
      const rules = (
        await runChecked(["iptables", "-S", "FWKNOP_INPUT"], { netns: net.pair.server })
      ).stdout
        .split("\n")
        .filter((l) => l.startsWith("-A FWKNOP_INPUT"));
      const controlSet = new Set(Array.from({ length: report.controls + 1 }, (_, i) => grantIp(i)));
      const falseGrants = [...d.granted].filter((ip) => !controlSet.has(ip));
      const falseRules = rules.filter((l) => !controlSet.has(/-s (\S+)\/32/.exec(l)?.[1] ?? ""));
      const warm = rss[Math.floor(rss.length / 5)] ?? rss[0] ?? 0;
      const summary = {
        daemon: kind,
        seed,
        casesSent: report.sent,
        controlKnocks: report.controls,
        byGenerator: report.byGenerator,
        sendErrors: report.sendErrors,
        seconds: Math.round((Date.now() - started) / 1000),
        deliveredToDaemonSocket: after.inDatagrams - before.inDatagrams,
        droppedForFullBuffer: after.rcvbufErrors - before.rcvbufErrors,
        daemonAlive: d.alive(),
        finalKnockGranted: finalGranted,
        crashes: d.alive() ? 0 : 1,
        controlGrants: [...d.granted].filter((ip) => controlSet.has(ip)).length,
        falseGrants: falseGrants.length,
        falseRules: falseRules.length,
        rulesInChain: rules.length,
        rssMb: {
          afterWarmup: +warm.toFixed(1),
          max: +Math.max(...rss).toFixed(1),
          end: +(rss.at(-1) ?? 0).toFixed(1),
        },
      };
      const pass =
        summary.crashes === 0 &&
        finalGranted &&
        summary.falseGrants === 0 &&
        summary.falseRules === 0 &&
        summary.rssMb.end - summary.rssMb.afterWarmup < 16;
      process.stdout.write(`${JSON.stringify({ ...summary, pass }, null, 1)}\n`);
      if (falseGrants.length > 0)
        process.stderr.write(`false grants: ${falseGrants.slice(0, 20).join(" ")}\n`);
      if (values["write-docs"]) writeDocs(summary, pass);
      return pass ? 0 : 1;
    } finally {
      await d.stop();
    }
  } finally {
    await net.cleanup();
  }
}

/** Replaces the generated block of docs/hardening.md with this run's summary. */
function writeDocs(
  s: Record<string, unknown> & { byGenerator: Record<string, number> },
  pass: boolean,
): void {
  const path = fileURLToPath(new URL("../../docs/hardening.md", import.meta.url));
  const rows = Object.entries(s)
    .filter(([k]) => k !== "byGenerator")
    .map(([k, v]) => `| ${k} | ${typeof v === "object" ? JSON.stringify(v) : String(v)} |`);
  const gens = Object.entries(s.byGenerator)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toLocaleString("en-US")}`)
    .join(", ");
  const block = [
    "<!-- fuzz-summary:start (written by node dist/bench/fuzz.js --write-docs) -->",
    `Run of ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}: **${pass ? "pass" : "FAIL"}**`,
    "",
    "| | |",
    "|---|---|",
    ...rows,
    `| cases by generator | ${gens} |`,
    "<!-- fuzz-summary:end -->",
  ].join("\n");
  const doc = readFileSync(path, "utf8");
  const re = /<!-- fuzz-summary:start[\s\S]*?<!-- fuzz-summary:end -->/;
  if (!re.test(doc)) throw new Error("docs/hardening.md has no fuzz-summary markers");
  writeFileSync(path, doc.replace(re, block));
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`fuzz: ${(e as Error).stack ?? e}\n`);
  return 2;
});
