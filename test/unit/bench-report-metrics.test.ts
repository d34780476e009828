/**
 * The metrics scenario's rows reach docs/benchmarks.md: its own table (ours only, the C column
 * saying it has no endpoint) and its with ÷ without rows in the Goals list with a verdict, met
 * at ≥ 95 % and not met below, so a costly endpoint cannot pass unnoticed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderMarkdown } from "../../bench/lib/report.js";
import type { Measurement } from "../../bench/lib/result.js";

const info = { date: "today", durationS: 1, facts: [], command: "bench", notes: "", errors: [] };

function ratioRow(metric: string, value: number): Measurement {
  return {
    scenario: "metrics",
    condition: "50k junk packets/s (rijndael-hmac), 4 paired run(s) of 5 s, metrics on ÷ off",
    metric: `${metric}, with ÷ without (metrics cost ≤ 5 %)`,
    unit: "%",
    better: "higher",
    values: { ours: value },
    notes: { c: "no metrics endpoint" },
    goal: { op: ">=", value: 95 },
  };
}

test("metrics rows render as their own table and their goals get a verdict", () => {
  const md = renderMarkdown(
    [ratioRow("valid knocks granted", 98.5), ratioRow("packets handled per CPU-second", 91)],
    info,
  );
  const lines = md.split("\n");
  const heading = lines.findIndex((l) => /^## 9\. Prometheus endpoint/.test(l));
  assert.ok(heading > 0, "table 9 present");
  const table = lines.slice(heading + 2, heading + 6);
  assert.match(table[0] ?? "", /^\| Condition \| Figure \| ours \| C fwknopd 2\.6\.10 \|/);
  assert.match(
    table[2] ?? "",
    /valid knocks granted.*\| 98\.5 % \| no metrics endpoint \|.*met \|$/,
  );
  assert.match(table[3] ?? "", /per CPU-second.*\| 91 % \|.*\*\*not met\*\* \|$/);
  const goals = lines.slice(lines.indexOf("## Goals"), heading);
  assert.ok(goals.some((l) => /valid knocks granted.*≥ 95 %: met$/.test(l)));
  assert.ok(goals.some((l) => /per CPU-second.*≥ 95 %: \*\*not met\*\*$/.test(l)));
});
