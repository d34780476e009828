/**
 * prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`) without its
 * garbage-collection histogram. That one watches every collection through a
 * PerformanceObserver, and Node then builds an entry and calls into JavaScript once per
 * collection: under the worst-case junk flood that alone cost 2–3 % of the packet path
 * (measured in process, observer on and off in alternating blocks; docs/observability.md).
 * `collectDefaultMetrics` has no switch for it (all or nothing), so the same collectors it runs
 * are registered here one by one, minus `gc` — prom-client's own code, taken from its
 * `lib/metrics/` (the package has no export map; its layout is that of prom-client 15, and
 * test/unit/server-metrics.test.ts checks every expected metric is served).
 */
import type { Registry } from "prom-client";
import eventLoopLag from "prom-client/lib/metrics/eventLoopLag.js";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsed from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processHandles from "prom-client/lib/metrics/processHandles.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processRequests from "prom-client/lib/metrics/processRequests.js";
import processResources from "prom-client/lib/metrics/processResources.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import version from "prom-client/lib/metrics/version.js";

// Static imports (not a loop of require()s) so scripts/bundle.ts takes them into the bundle.
const COLLECTORS = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  eventLoopLag,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
];

/** Registers the default metrics except GC durations on `registry`. */
export function collectProcessMetrics(registry: Registry): void {
  // The event-loop monitor's resolution that collectDefaultMetrics uses, in milliseconds.
  for (const collect of COLLECTORS) collect(registry, { eventLoopMonitoringPrecision: 10 });
}
