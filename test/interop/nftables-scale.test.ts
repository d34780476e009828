/**
 * Scale checks of the grant ledger with the real nft, run inside a namespace by a process that
 * lives there (as the daemon does: no `ip netns exec` per command). The numbers are reported as
 * diagnostics; the assertions are the targets, with the margins docs/firewall.md shows.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { run, runChecked } from "../../src/sys/run.js";
import { canUseNetns } from "../helpers/netns.js";

// A CLI, so it lives outside dist/test (node --test runs every file there).
const worker = fileURLToPath(new URL("../../bench/workers/nftables-scale.js", import.meta.url));

describe("grant ledger at scale (real nft in a namespace)", () => {
  const ns = `fwk-nftscale-${process.pid}`;

  before(async () => {
    if (!canUseNetns())
      assert.fail("these tests need root and iproute2 (ip netns) to run nft in a namespace");
    await runChecked(["ip", "netns", "add", ns]);
    await runChecked(["ip", "-n", ns, "link", "set", "lo", "up"]);
  });
  after(async () => {
    await run(["ip", "netns", "del", ns]);
  });

  async function measure(scenario: string, n: number) {
    const r = await run([process.execPath, worker, scenario, String(n)], {
      netns: ns,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, number>;
  }

  test("2,000 grants/s for 2 s, none lost", async (t) => {
    const m = await measure("throughput", 2000);
    t.diagnostic(JSON.stringify(m));
    assert.equal(m.failed, 0);
    assert.equal(m.installed, m.offered);
  });

  test("with 100,000 grants active a 2 s grant closes ≤ 1 s after its expiry", async (t) => {
    const m = await measure("expiry", 100_000);
    t.diagnostic(JSON.stringify(m));
    assert.ok((m.maxLateMs ?? Number.POSITIVE_INFINITY) <= 1000, `late by ${m.maxLateMs} ms`);
  });
});
