/**
 * The metrics registry exports the decision log's counts and what the channels publish, reads
 * gauges at scrape time, and the
 * endpoint's address rules: loopback only unless METRICS_ALLOW_REMOTE, file:line in the error.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { type ErrorCode, FwknopError } from "../../src/errors.js";
import { silentLogger } from "../../src/log/logger.js";
import { DecisionLog } from "../../src/server/decision-log.js";
import {
  batchChannel,
  publishGrantCommitted,
  publishGrantFailed,
  ruleRemovedChannel,
} from "../../src/server/grant-events.js";
import { createMetrics } from "../../src/server/metrics.js";
import {
  isLoopback,
  metricsListenFromConfig,
  parseListen,
  startMetricsEndpoint,
} from "../../src/server/metrics-endpoint.js";
import type { Decision } from "../../src/server/pipeline.js";
import { udpCandidate } from "../helpers/candidate.js";

function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

test("decisions, grants and batches on the channels become counters and histograms", async () => {
  let active = 3;
  const decisions = new DecisionLog({ log: silentLogger });
  const m = createMetrics({
    backend: "iptables",
    intake: "udp",
    sources: {
      outcomes: () => decisions.counts,
      activeGrants: () => active,
      replayEntries: () => 7,
      udpReceiveDrops: () => 42,
    },
  });
  try {
    let text = await m.registry.metrics();
    // Before the first packet: GRANTED at 0, so a rate() query has its series from the start.
    assert.equal(sample(text, "fwknopd_packets_total", '{outcome="GRANTED"}'), 0);
    const record = (decision: unknown) => decisions.record(candidate, decision as Decision);
    record({ ok: true });
    record(refusal("SPA_MSG_REPLAY"));
    record(refusal("SPA_MSG_REPLAY"));
    record(refusal("SPA_MSG_TOO_OLD"));
    publishGrantCommitted({ receivedAt: 1000, committedAt: 1004 });
    publishGrantFailed();
    batchChannel.publish({ seconds: 0.002, rules: 3, ok: true });
    batchChannel.publish({ seconds: 0.5, rules: 1, ok: false });
    ruleRemovedChannel.publish({ rule: {}, chain: "FWKNOP_INPUT", replaced: false });
    ruleRemovedChannel.publish({ rule: {}, chain: "FWKNOP_INPUT", replaced: true });
    active = 5;
    text = await m.registry.metrics();
    assert.equal(sample(text, "fwknopd_packets_total", '{outcome="GRANTED"}'), 1);
    assert.equal(sample(text, "fwknopd_packets_total", '{outcome="SPA_MSG_REPLAY"}'), 2);
    assert.equal(sample(text, "fwknopd_packets_total", '{outcome="SPA_MSG_TOO_OLD"}'), 1);
    assert.equal(sample(text, "fwknopd_grants_active", '{backend="iptables"}'), 5);
    assert.equal(sample(text, "fwknopd_grants_added_total", '{backend="iptables"}'), 1);
    assert.equal(sample(text, "fwknopd_grants_failed_total", '{backend="iptables"}'), 1);
    assert.equal(sample(text, "fwknopd_grant_rules_removed_total", '{backend="iptables"}'), 1);
    assert.equal(sample(text, "fwknopd_knock_to_rule_seconds_count"), 1);
    assert.equal(sample(text, "fwknopd_knock_to_rule_seconds_bucket", '{le="0.005"}'), 1);
    assert.equal(sample(text, "fwknopd_knock_to_rule_seconds_bucket", '{le="0.0025"}'), 0);
    assert.equal(sample(text, "fwknopd_firewall_batch_rules_sum"), 4);
    assert.equal(sample(text, "fwknopd_firewall_batch_failures_total"), 1);
    assert.equal(sample(text, "fwknopd_replay_cache_entries"), 7);
    assert.equal(sample(text, "fwknopd_udp_receive_drops_total"), 42);
    assert.equal(sample(text, "fwknopd_capture_drops_total"), undefined);
    assert.ok(sample(text, "process_cpu_seconds_total") !== undefined, "process metrics");
    // prom-client's defaults, registered one by one (src/server/process-metrics.ts): all there
    // but the GC histogram, whose per-collection observer would tax the packet path.
    const types = new Set(text.match(/^# TYPE \S+/gm)?.map((l) => l.slice(7)));
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_start_time_seconds",
      "process_resident_memory_bytes",
      "process_open_fds",
      "process_max_fds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_active_resources",
      "nodejs_active_handles",
      "nodejs_active_requests",
      "nodejs_heap_size_used_bytes",
      "nodejs_heap_space_size_used_bytes",
      "nodejs_version_info",
    ]) {
      assert.ok(types.has(name), name);
    }
    assert.ok(!types.has("nodejs_gc_duration_seconds"), "no GC observer");
  } finally {
    m.close();
    decisions.close();
  }
});

const candidate = udpCandidate();

function refusal(code: ErrorCode): Decision {
  return { ok: false, code, detail: "", authenticated: true, outcomes: [] };
}

test("METRICS_LISTEN forms; non-loopback refused unless METRICS_ALLOW_REMOTE", () => {
  assert.deepEqual(parseListen("127.0.0.1:9731"), { host: "127.0.0.1", port: 9731 });
  assert.deepEqual(parseListen("[::1]:9731"), { host: "::1", port: 9731 });
  assert.deepEqual(parseListen("9731"), { host: "127.0.0.1", port: 9731 });
  for (const bad of ["127.0.0.1", "host:0", "1.2.3.4:70000", "[zz]:1", "::1:9731", ""])
    assert.equal(parseListen(bad), undefined, bad);
  assert.ok(isLoopback("127.3.4.5") && isLoopback("::1") && !isLoopback("198.18.0.1"));

  const dir = mkdtempSync(join(tmpdir(), "fwk-metrics-"));
  try {
    const load = (text: string) => {
      const configFile = join(dir, "fwknopd.conf");
      writeFileSync(configFile, text, { mode: 0o600 });
      return loadServerConfig({ configFile });
    };
    assert.equal(metricsListenFromConfig(load("VERBOSE 0\n")), undefined, "off by default");
    assert.throws(
      () => metricsListenFromConfig(load("\nMETRICS_LISTEN 198.18.0.1:9731\n")),
      (e: unknown) =>
        e instanceof FwknopError &&
        e.code === "FWK_ERR_CONFIG_VALUE" &&
        /fwknopd\.conf:2: .*not a loopback address.*METRICS_ALLOW_REMOTE Y/.test(e.message),
    );
    assert.deepEqual(
      metricsListenFromConfig(load("METRICS_LISTEN 198.18.0.1:9731\nMETRICS_ALLOW_REMOTE Y\n")),
      { host: "198.18.0.1", port: 9731 },
    );
    assert.throws(
      () => metricsListenFromConfig(load("METRICS_LISTEN nonsense\n")),
      /fwknopd\.conf:1: Invalid METRICS_LISTEN 'nonsense'/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the endpoint serves /metrics only, and a busy port is FWK_ERR_METRICS_BIND", async () => {
  const m = createMetrics({ backend: "nftables", intake: "capture", sources: {} });
  const ep = await startMetricsEndpoint({ host: "127.0.0.1", port: 0 }, m.registry);
  try {
    const ok = await fetch(`http://127.0.0.1:${ep.port}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /text\/plain/);
    assert.match(await ok.text(), /^fwknopd_capture_drops_total 0$/m);
    assert.equal((await fetch(`http://127.0.0.1:${ep.port}/`)).status, 404);
    await assert.rejects(
      startMetricsEndpoint({ host: "127.0.0.1", port: ep.port }, m.registry),
      (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_METRICS_BIND",
    );
  } finally {
    await ep.close();
    m.close();
  }
});
