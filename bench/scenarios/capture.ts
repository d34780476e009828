/**
 * Scenario 7, sniffing mode: both daemons capture on the server's veth (libpcap for the C
 * daemon, tcpdump for ours) instead of listening on a UDP socket — upstream's default mode, in
 * which the SPA port needs no ACCEPT rule. Measured: knock-to-open latency with no other grants,
 * and the share of valid knocks granted under a 50k packets/s flood of the most expensive junk.
 */
import { firewallVariant } from "../lib/daemon.js";
import { type Measurement, percentile, type ScenarioContext } from "../lib/result.js";
import { flood, WORST_SHAPE } from "./junk.js";
import { samples } from "./latency.js";

const TRIALS = 50;
const JUNK_RATE = 50_000;

export async function capture(ctx: ScenarioContext): Promise<Measurement[]> {
  const kinds = ctx.kinds.filter((k) => !firewallVariant(k));
  const base = { scenario: "capture", condition: "pcap mode, 0 other grants active", unit: "ms" };
  const p50: Measurement = { ...base, metric: "knock-to-open p50", better: "lower", values: {} };
  const p99: Measurement = { ...base, metric: "knock-to-open p99", better: "lower", values: {} };
  const junk: Measurement = {
    scenario: "capture",
    condition: `pcap mode, ${JUNK_RATE / 1000}k junk packets/s (${WORST_SHAPE}) for 5 s`,
    metric: "valid knocks granted",
    unit: "%",
    better: "higher",
    values: {},
  };
  for (const kind of kinds) {
    const s = await samples(kind, 0, ctx.quick ? 10 : TRIALS, "pcap");
    p50.values[kind] = percentile(s.open, 50);
    p99.values[kind] = percentile(s.open, 99);
    const f = await flood(kind, ctx.quick ? 10_000 : JUNK_RATE, "pcap");
    junk.values[kind] = f.share;
    ctx.log(
      `capture ${kind}: p50 ${p50.values[kind]?.toFixed(2)} ms, p99 ${p99.values[kind]?.toFixed(2)} ms, junk ${f.share}% granted`,
    );
  }
  return [p50, p99, junk];
}
