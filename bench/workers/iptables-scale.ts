/**
 * Runs inside a network namespace for test/interop/iptables-scale.test.ts and prints one JSON
 * object with its measurements:
 *   throughput chain|ipset RATE  - offer RATE grants/s for 2 s; count installed and failed
 *   knock chain|ipset ACTIVE     - with ACTIVE grants open, latency of 50 single grants (ms)
 *   expiry chain|ipset ACTIVE    - with ACTIVE grants open, how late 5 two-second grants close
 * Every loop is bounded; the chains and sets are flushed before exit.
 */
import { execFileSync } from "node:child_process";
import type { Rule } from "../../src/firewall/backend.js";
import { IptablesBackend } from "../../src/firewall/iptables.js";
import { defaultFirewallSettings } from "../../src/firewall/settings.js";
import { silentLogger } from "../../src/log/logger.js";
import { GrantLedger } from "../../src/server/grants.js";

// It changes the firewall of the namespace it runs in: refuse to run in the host's.
const netns = execFileSync("ip", ["netns", "identify", String(process.pid)])
  .toString()
  .trim();
if (netns === "") {
  process.stderr.write("iptables-scale: run me inside a test namespace (ip netns exec NAME ...)\n");
  process.exit(2);
}

const [scenario, mode, count] = process.argv.slice(2);
const n = Number(count);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSec = () => Math.floor(Date.now() / 1000);
const ip = (a: number, i: number) => `${a}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const access = (src: string, expiresAt: number): Rule => ({
  chain: "input",
  proto: "tcp",
  src,
  dst: "0.0.0.0/0",
  dport: 22,
  expiresAt,
});
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const backend = new IptablesBackend(
  { ...defaultFirewallSettings(), ipset: mode === "ipset" },
  { log: silentLogger },
);
await backend.init({ flush: true });
const removedAt = new Map<string, number>();
const apply = backend.apply.bind(backend);
backend.apply = async (add, remove) => {
  await apply(add, remove);
  for (const r of remove) if (r.src) removedAt.set(r.src, Date.now());
};
const ledger = new GrantLedger(backend, { log: silentLogger });

async function fill(active: number): Promise<void> {
  for (let i = 0; i < active; i += 20_000) {
    const size = Math.min(20_000, active - i);
    await ledger.grant(
      Array.from({ length: size }, (_, k) => access(ip(10, i + k), nowSec() + 900)),
    );
  }
}

let result: Record<string, number>;
if (scenario === "throughput") {
  const offered = n * 2;
  let failed = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let sent = 0; sent < offered && performance.now() - t0 < 10_000; ) {
    const due = Math.min(offered, Math.floor(((performance.now() - t0) / 1000) * n));
    for (; sent < due; sent++) {
      pending.push(ledger.grant([access(ip(10, sent), nowSec() + 900)]).catch(() => void failed++));
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  result = { offered, installed: (await backend.listInstalled()).length, failed, seconds };
} else if (scenario === "knock") {
  await fill(n);
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await ledger.grant([access(ip(11, i), nowSec() + 600)]);
    latencies.push(performance.now() - t);
    await sleep(10);
  }
  result = { active: n, p50: median(latencies), max: Math.max(...latencies) };
} else {
  await fill(n);
  const probes: Rule[] = [];
  for (let i = 0; i < 5; i++) {
    const r = access(ip(12, i), nowSec() + 2);
    await ledger.grant([r]);
    probes.push(r);
    await sleep(200);
  }
  const last = Math.max(...probes.map((r) => r.expiresAt)) * 1000;
  for (let i = 0; i < 100 && probes.some((r) => !removedAt.has(r.src ?? "")); i++) {
    await sleep(Math.max(100, last - Date.now()));
  }
  const late = probes.map(
    (r) => (removedAt.get(r.src ?? "") ?? Number.POSITIVE_INFINITY) - r.expiresAt * 1000,
  );
  result = { active: n, maxLateMs: Math.max(...late), medianLateMs: median(late) };
}
await ledger.stop();
await backend.flush();
process.stdout.write(`${JSON.stringify(result)}\n`);
