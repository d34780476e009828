/**
 * prom-client's individual default-metric collectors (`lib/metrics/*.js`, CommonJS, untyped):
 * each registers its metrics on `registry`. Used by src/server/process-metrics.ts.
 */
declare module "prom-client/lib/metrics/*.js" {
  import type { Registry } from "prom-client";

  const collect: (registry: Registry, config: { eventLoopMonitoringPrecision?: number }) => void;
  export default collect;
}
