/**
 * Scale measurements of the grant ledger with a real firewall backend, run inside a network
 * namespace by test/interop/ledger-scale.test.ts (and by hand for the figures in
 * docs/firewall.md). Prints one JSON object:
 *   chain|ipset|nft throughput RATE  - offer RATE grants/s for 2 s; count installed and failed
 *   chain|ipset|nft knock ACTIVE     - with ACTIVE grants open, latency of 50 single grants (ms)
 *   chain|ipset|nft expiry ACTIVE    - with ACTIVE grants open, how late 5 two-second grants close
 * "chain" is the iptables backend's default mode, "ipset" its ENABLE_IPT_IPSET mode, "nft" the
 * nftables backend. Every loop is bounded; the firewall objects are flushed before exit.
 */
import { execFileSync } from "node:child_process";
import type { FirewallBackend, Rule } from "../../src/firewall/backend.js";
import { IptablesBackend } from "../../src/firewall/iptables.js";
import { DEFAULT_NFT_SETTINGS } from "../../src/firewall/nft-settings.js";
import { NftablesBackend } from "../../src/firewall/nftables.js";
import { defaultFirewallSettings } from "../../src/firewall/settings.js";
import { silentLogger } from "../../src/log/logger.js";
import { GrantLedger } from "../../src/server/grants.js";

// It changes the firewall of the namespace it runs in: refuse to run in the host's.
const netns = execFileSync("ip", ["netns", "identify", String(process.pid)])
  .toString()
  .trim();
if (netns === "") {
  process.stderr.write("ledger-scale: run me inside a test namespace (ip netns exec NAME ...)\n");
  process.exit(2);
}

function makeBackend(which: string | undefined): FirewallBackend {
  const log = { log: silentLogger };
  if (which === "nft") {
    return new NftablesBackend(
      { ...defaultFirewallSettings(), exe: "nft", nft: { ...DEFAULT_NFT_SETTINGS } },
      log,
    );
  }
  return new IptablesBackend({ ...defaultFirewallSettings(), ipset: which === "ipset" }, log);
}

const [kind, scenario, count] = process.argv.slice(2);
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
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? Number.NaN;
const round = (x: number) => Math.round(x * 100) / 100;

const backend = makeBackend(kind);
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
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let sent = 0; sent < offered && performance.now() - t0 < 10_000; ) {
    const due = Math.min(offered, Math.floor(((performance.now() - t0) / 1000) * n));
    for (; sent < due; sent++) {
      const t = performance.now();
      pending.push(
        ledger.grant([access(ip(10, sent), nowSec() + 900)]).then(
          () => void latencies.push(performance.now() - t),
          () => void failed++,
        ),
      );
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  result = {
    offered,
    installed: (await backend.listInstalled()).length,
    failed,
    seconds: round(seconds),
    p50: round(quantile(latencies, 0.5)),
    p99: round(quantile(latencies, 0.99)),
  };
} else if (scenario === "knock") {
  await fill(n);
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await ledger.grant([access(ip(11, i), nowSec() + 600)]);
    latencies.push(performance.now() - t);
    await sleep(10);
  }
  result = {
    active: n,
    p50: round(quantile(latencies, 0.5)),
    p99: round(quantile(latencies, 0.99)),
    max: round(Math.max(...latencies)),
  };
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
  result = { active: n, maxLateMs: Math.max(...late), medianLateMs: quantile(late, 0.5) };
}
await ledger.stop();
await backend.flush();
process.stdout.write(`${JSON.stringify(result)}\n`);
