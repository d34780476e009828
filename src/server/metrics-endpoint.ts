/**
 * The /metrics endpoint (ours): METRICS_LISTEN `host:port` (`[v6]:port`; a bare port means
 * 127.0.0.1), off by default. Loopback only unless METRICS_ALLOW_REMOTE Y: packet counts by
 * code tell an observer which keys and clocks are being tried, so remote scraping is opt-in.
 */
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import type { Registry } from "prom-client";
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";

export interface MetricsListen {
  host: string;
  port: number;
}

/** METRICS_LISTEN checked; undefined when it is unset (metrics off). Throws naming file:line. */
export function metricsListenFromConfig(cfg: ServerConfig): MetricsListen | undefined {
  const raw = cfg.get("METRICS_LISTEN");
  if (raw === undefined || raw === "") return undefined;
  const where = cfg.where("METRICS_LISTEN") ?? "METRICS_LISTEN";
  const listen = parseListen(raw);
  if (!listen) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${where}: Invalid METRICS_LISTEN '${raw}' (want host:port, [v6]:port or port)`,
    );
  }
  if (!isLoopback(listen.host) && !cfg.bool("METRICS_ALLOW_REMOTE")) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${where}: METRICS_LISTEN '${raw}' is not a loopback address; set METRICS_ALLOW_REMOTE Y to serve metrics to other hosts`,
    );
  }
  return listen;
}

export function parseListen(raw: string): MetricsListen | undefined {
  const m =
    /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw) ?? /^()()(\d{1,5})$/.exec(raw);
  if (!m) return undefined;
  const host = m[1] || m[2] || "127.0.0.1";
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined && m[1] !== "" && isIP(host) !== 6) return undefined;
  if (host !== "localhost" && isIP(host) === 0) return undefined;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Serves `registry` on GET /metrics; resolves once listening. */
export async function startMetricsEndpoint(
  listen: MetricsListen,
  registry: Registry,
): Promise<{ close(): Promise<void>; port: number }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found; try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(`${(e as Error).message}\n`),
    );
  });
  // A scraper that holds connections open must not keep a stopping daemon alive.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) =>
      reject(
        new FwknopError(
          "FWK_ERR_METRICS_BIND",
          `Cannot serve metrics on ${listen.host}:${listen.port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : listen.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
