/**
 * contrib/grafana-fwknopd.json: valid JSON, and every metric its queries use is one our
 * registry exposes (a renamed metric would leave an empty panel).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createMetrics } from "../../src/server/metrics.js";

const path = fileURLToPath(new URL("../../../contrib/grafana-fwknopd.json", import.meta.url));

interface Panel {
  title: string;
  targets: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(path, "utf8")) as { panels: Panel[]; uid: string };
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

test("every metric the dashboard queries exists in our exposition", async () => {
  const m = createMetrics({ backend: "iptables", intake: "udp", sources: {} });
  const m2 = createMetrics({ backend: "iptables", intake: "capture", sources: {} });
  try {
    const exposed = new Set(
      [...(await m.registry.getMetricsAsJSON()), ...(await m2.registry.getMetricsAsJSON())].map(
        (x) => x.name,
      ),
    );
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b((?:fwknopd|process|nodejs)_[a-z0-9_]+)/g)].map((x) => x[1] ?? ""),
      ),
    );
    assert.ok(used.size >= 10, `queries use ${[...used].join(", ")}`);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(exposed.has(name) || exposed.has(base), `${name} is not exposed`);
    }
  } finally {
    m.close();
    m2.close();
  }
});

test("every panel has a title and at least one query", () => {
  assert.equal(dashboard.uid, "fwknop-ts-fwknopd");
  for (const p of dashboard.panels) {
    assert.ok(p.title.length > 0);
    assert.ok(p.targets.length > 0 && p.targets.every((t) => t.expr.length > 0), p.title);
  }
});
