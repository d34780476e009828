/**
 * Scale checks of the grant ledger with the real iptables/ipset, run inside a namespace by a
 * process that lives there (as the daemon does: no `ip netns exec` per command). The numbers are
 * reported as diagnostics; the assertions are the targets, with the margins the
 * measurements in docs/firewall.md show.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { run, runChecked } from "../../src/sys/run.js";
import { canUseNetns } from "../helpers/netns.js";

// A CLI, so it lives outside dist/test (node --test runs every file there).
const worker = fileURLToPath(new URL("../../bench/workers/iptables-scale.js", import.meta.url));

describe("grant ledger at scale (real iptables and ipset in a namespace)", () => {
  const ns = `fwk-scale-${process.pid}`;

  before(async () => {
    if (!canUseNetns())
      assert.fail("these tests need root and iproute2 (ip netns) to run iptables in a namespace");
    await runChecked(["ip", "netns", "add", ns]);
    await runChecked(["ip", "-n", ns, "link", "set", "lo", "up"]);
  });
  after(async () => {
    await run(["ip", "netns", "del", ns]);
  });

  async function measure(scenario: string, mode: "chain" | "ipset", n: number) {
    const r = await run([process.execPath, worker, scenario, mode, String(n)], {
      netns: ns,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, number>;
  }

  for (const mode of ["chain", "ipset"] as const) {
    test(`${mode} mode: 2,000 grants/s for 2 s, none lost`, async (t) => {
      const m = await measure("throughput", mode, 2000);
      t.diagnostic(JSON.stringify(m));
      assert.equal(m.failed, 0);
      assert.equal(m.installed, m.offered);
    });
  }

  test("ipset mode: knock-to-rule p50 ≤ 2 ms with 10,000 grants active", async (t) => {
    const m = await measure("knock", "ipset", 10_000);
    t.diagnostic(JSON.stringify(m));
    assert.ok((m.p50 ?? Number.POSITIVE_INFINITY) <= 2, `p50 ${m.p50} ms`);
  });

  test("ipset mode: with 100,000 grants active a 2 s grant closes ≤ 1 s after its expiry", async (t) => {
    const m = await measure("expiry", "ipset", 100_000);
    t.diagnostic(JSON.stringify(m));
    assert.ok((m.maxLateMs ?? Number.POSITIVE_INFINITY) <= 1000, `late by ${m.maxLateMs} ms`);
  });
});
