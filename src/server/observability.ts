/**
 * The daemon's optional observers, started from the configuration: the Prometheus endpoint
 * (METRICS_LISTEN). Started before the firewall is touched, so a bad address or a busy port
 * stops fwknopd before any change; what it reports is filled in once the parts exist.
 */
import type { ServerConfig } from "../config/server-config.js";
import type { Logger } from "../log/logger.js";
import type { GrantLedger } from "./grants.js";
import type { Intake } from "./intake/intake.js";
import type { MetricsSources } from "./metrics.js";
import { metricsListenFromConfig, startMetricsEndpoint } from "./metrics-endpoint.js";
import type { ReplayCache } from "./replay/replay-cache.js";

export interface Observability {
  /** Tell the observers about the running parts (called once they exist). */
  attach(parts: {
    firewall?: { ledger: GrantLedger } | undefined;
    replay?: ReplayCache | undefined;
    intake: Intake;
    /** Packets by outcome so far (the daemon's decision log). */
    outcomes: () => ReadonlyMap<string, number>;
  }): void;
  close(): Promise<void>;
}

export async function startObservability(cfg: ServerConfig, log: Logger): Promise<Observability> {
  const listen = metricsListenFromConfig(cfg);
  if (!listen) return { attach() {}, close: () => Promise.resolve() };
  // Loaded only when asked for: prom-client is most of the daemon's code by size.
  const { createMetrics } = await import("./metrics.js");
  const sources: MetricsSources = {};
  const metrics = createMetrics({
    backend: cfg.firewallType,
    intake: cfg.bool("ENABLE_UDP_SERVER") ? "udp" : "capture",
    sources,
  });
  const endpoint = await startMetricsEndpoint(listen, metrics.registry);
  const shown = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  log.info(`Serving Prometheus metrics on http://${shown}:${endpoint.port}/metrics`);
  return {
    attach({ firewall, replay, intake, outcomes }) {
      sources.outcomes = outcomes;
      if (firewall) sources.activeGrants = () => firewall.ledger.size;
      if (replay) sources.replayEntries = () => replay.size;
      if (intake.kernelDrops) {
        const read = () => intake.kernelDrops?.();
        if (intake.name.startsWith("udp:")) sources.udpReceiveDrops = read;
        else sources.captureDrops = read;
      }
    },
    async close() {
      metrics.close();
      await endpoint.close();
    },
  };
}
