/**
 * Scenario 8, metrics under a flood: the junk flood of scenario 3 at 50k packets/s against our
 * fwknopd twice in the same run, without and with METRICS_LISTEN scraped every second from the
 * server namespace (as a Prometheus server would). Figure: the share of valid knocks granted;
 * the notes give the junk rate achieved and the kernel's drops for a full socket buffer (the
 * throughput side). The endpoint must cost neither; the C daemon has no metrics endpoint and is
 * not run here.
 */
import { runAgent } from "../lib/net.js";
import type { Measurement, ScenarioContext } from "../lib/result.js";
import { flood } from "./junk.js";

const RATE = 50_000;
const METRICS = "127.0.0.1:9731";

interface ScrapeReport {
  scrapes: number;
  failures: number;
  meanMs: number;
  maxMs: number;
}

export async function metrics(ctx: ScenarioContext): Promise<Measurement[]> {
  if (!ctx.kinds.includes("ours")) return [];
  const seconds = ctx.quick ? 2 : 5;
  const granted: Measurement = {
    scenario: "metrics",
    condition: `${RATE / 1000}k junk packets/s for ${seconds} s`,
    metric: "valid knocks granted",
    unit: "%",
    better: "higher",
    values: {},
    notes: {},
  };
  const rows: Measurement[] = [];
  for (const scraped of [false, true]) {
    const r = await flood("ours", RATE, "udp", undefined, {
      seconds,
      ...(scraped
        ? {
            conf: { METRICS_LISTEN: METRICS },
            alongside: (ns: string, s: number) =>
              runAgent<ScrapeReport>(
                ns,
                "scraper",
                { url: `http://${METRICS}/metrics`, seconds: s, intervalMs: 1000 },
                60_000,
              ),
          }
        : {}),
    });
    const scrape = r.alongside as ScrapeReport | undefined;
    const label = scraped ? "metrics on, scraped every 1 s" : "no metrics endpoint";
    ctx.log(
      `metrics ${label}: ${r.share}% granted, junk ${r.achieved}/s sent, ${r.dropped} dropped` +
        (scrape
          ? `, ${scrape.scrapes} scrapes (${scrape.failures} failed, mean ${scrape.meanMs.toFixed(1)} ms, max ${scrape.maxMs.toFixed(1)} ms)`
          : ""),
    );
    rows.push({
      ...granted,
      condition: `${granted.condition}, ${label}`,
      values: { ours: r.share },
      notes: {
        ours: `junk sent at ${Math.round(r.achieved / 1000)}k/s, kernel drops for a full socket buffer ${r.dropped.toLocaleString("en-US")}${scrape ? `; ${scrape.scrapes} scrapes, mean ${scrape.meanMs.toFixed(1)} ms, ${scrape.failures} failed` : ""}`,
        c: "no metrics endpoint",
      },
    });
  }
  return rows;
}
