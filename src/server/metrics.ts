/**
 * Prometheus metrics (ours; METRICS_LISTEN). Packets by outcome are the decision log's own
 * counts, read at scrape time, so the packet path does no extra work for metrics at all; what
 * the grant stage and the ledger do is observed through diagnostics_channel subscriptions that
 * only bump a number (once per grant or batch, not per packet); gauges that need a read (active
 * grants, replay-cache size, kernel drop counters from /proc) are read at scrape time.
 */
import type diagnostics_channel from "node:diagnostics_channel";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  batchChannel,
  type GrantCommitted,
  grantCommittedChannel,
  grantFailedChannel,
  ruleAddedChannel,
  ruleRemovedChannel,
} from "./grant-events.js";
import { collectProcessMetrics } from "./process-metrics.js";

/**
 * What the registry reads at scrape time. The daemon fills these in once its parts exist (the
 * endpoint starts before the firewall); an absent one reads as 0.
 */
export interface MetricsSources {
  /** Candidate packets by outcome (GRANTED or the refusal code): the decision log's counts. */
  outcomes?: () => ReadonlyMap<string, number>;
  activeGrants?: () => number;
  replayEntries?: () => number;
  /** Datagrams the kernel dropped for the UDP server socket (/proc/net/udp{,6}). */
  udpReceiveDrops?: () => number | undefined;
  /** Packets the sniffer's capture dropped (tcpdump's "dropped by kernel"). */
  captureDrops?: () => number | undefined;
}

export interface Metrics {
  readonly registry: Registry;
  /** Unsubscribes from every channel (the registry keeps its last values). */
  close(): void;
}

/** Seconds: knock-to-rule is milliseconds normally, seconds under load or with slow tools. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LINT_FAILING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000];

export interface MetricsOptions {
  /** FIREWALL_TYPE: the `backend` label of the grant metrics. */
  backend: string;
  /** Which kernel drop counter applies: the UDP server's socket or the sniffer's capture. */
  intake: "udp" | "capture";
  sources: MetricsSources;
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const { backend, sources } = opts;
  const on = { registers: [registry] };

  // Filled in at scrape time from the decision log's counts: per packet, metrics cost nothing
  // (the decision log counts every outcome anyway, for the logs and for systemd's STATUS=).
  new Counter({
    name: "fwknopd_packets_total",
    help: "SPA candidate packets by outcome: GRANTED or the rejection code (docs/errors.md)",
    labelNames: ["outcome"] as const,
    ...on,
    collect() {
      this.reset();
      // GRANTED is always there, 0 before the first grant, so a rate() query has its series.
      this.inc({ outcome: "GRANTED" }, 0);
      for (const [outcome, n] of sources.outcomes?.() ?? []) this.inc({ outcome }, n);
    },
  });

  new Gauge({
    name: "fwknopd_grants_active",
    help: "Firewall rules currently granted (wanted open) by the grant ledger",
    labelNames: ["backend"] as const,
    ...on,
    collect() {
      this.set({ backend }, sources.activeGrants?.() ?? 0);
    },
  });
  const added = new Counter({
    name: "fwknopd_grants_added_total",
    help: "Granted knocks whose rules were committed to the firewall (new or refreshed)",
    labelNames: ["backend"] as const,
    ...on,
  });
  const failed = new Counter({
    name: "fwknopd_grants_failed_total",
    help: "Granted knocks whose rules the firewall refused (FWK_ERR_FW_APPLY)",
    labelNames: ["backend"] as const,
    ...on,
  });
  const rulesAdded = new Counter({
    name: "fwknopd_grant_rules_added_total",
    help: "Firewall rules the grant ledger put in (a grant has one per port, more with NAT)",
    labelNames: ["backend"] as const,
    ...on,
  });
  const rulesRemoved = new Counter({
    name: "fwknopd_grant_rules_removed_total",
    help: "Firewall rules the grant ledger removed because they expired (not replaced by a refresh)",
    labelNames: ["backend"] as const,
    ...on,
  });
  for (const c of [added, failed, rulesAdded, rulesRemoved]) c.inc({ backend }, 0);

  const latency = new Histogram({
    name: "fwknopd_knock_to_rule_seconds",
    help: "From reading the SPA packet to its firewall rule being committed",
    buckets: LATENCY_BUCKETS,
    ...on,
  });
  const batchSeconds = new Histogram({
    name: "fwknopd_firewall_batch_seconds",
    help: "Duration of one firewall batch (one iptables-restore / nft / ipset run)",
    buckets: LATENCY_BUCKETS,
    ...on,
  });
  const batchRules = new Histogram({
    name: "fwknopd_firewall_batch_rules",
    help: "Rules added plus removed in one firewall batch",
    buckets: BATCH_SIZE_BUCKETS,
    ...on,
  });
  const batchFailures = new Counter({
    name: "fwknopd_firewall_batch_failures_total",
    help: "Firewall batches the backend refused (the ledger then isolates and retries)",
    ...on,
  });

  new Gauge({
    name: "fwknopd_replay_cache_entries",
    help: "Digests in the replay cache",
    ...on,
    collect() {
      this.set(sources.replayEntries?.() ?? 0);
    },
  });
  if (opts.intake === "udp") {
    kernelCounter(
      registry,
      "fwknopd_udp_receive_drops_total",
      "Datagrams the kernel dropped for the UDP server socket (receive buffer full; /proc/net/udp{,6})",
      () => sources.udpReceiveDrops?.(),
    );
  } else {
    kernelCounter(
      registry,
      "fwknopd_capture_drops_total",
      "Packets the sniffer's capture dropped (tcpdump: dropped by kernel)",
      () => sources.captureDrops?.(),
    );
  }
  collectProcessMetrics(registry);
  // prom-client also exports these three gauges with a `_total` suffix, which `promtool check
  // metrics` rejects; the same numbers stay available without the suffix.
  for (const dup of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(dup);

  const subscriptions: [diagnostics_channel.Channel, (m: unknown) => void][] = [
    [
      grantCommittedChannel,
      (m) => {
        const e = m as GrantCommitted;
        added.inc({ backend });
        latency.observe(Math.max(0, e.committedAt - e.receivedAt) / 1000);
      },
    ],
    [grantFailedChannel, () => failed.inc({ backend })],
    [ruleAddedChannel, () => rulesAdded.inc({ backend })],
    [
      ruleRemovedChannel,
      (m) => {
        if (!(m as { replaced?: boolean }).replaced) rulesRemoved.inc({ backend });
      },
    ],
    [
      batchChannel,
      (m) => {
        const b = m as { seconds: number; rules: number; ok: boolean };
        batchSeconds.observe(b.seconds);
        batchRules.observe(b.rules);
        if (!b.ok) batchFailures.inc();
      },
    ],
  ];
  for (const [ch, fn] of subscriptions) ch.subscribe(fn);
  return {
    registry,
    close() {
      for (const [ch, fn] of subscriptions) ch.unsubscribe(fn);
    },
  };
}

/** A counter whose value the kernel keeps: read at scrape time (0 while unreadable). */
function kernelCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | undefined,
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      this.reset();
      if (v !== undefined) this.inc(v);
    },
  });
}
