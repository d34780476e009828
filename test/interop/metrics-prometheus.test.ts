/**
 * A real Prometheus server scrapes our fwknopd (METRICS_LISTEN on loopback inside the server's
 * namespace) while the C fwknop 2.6.10 client sends a known mix of knocks: the counters it
 * stores equal the outcomes, and `promtool check metrics` passes on our exposition. The same
 * daemon logs with LOG_FORMAT json, so its stderr is checked as one JSON object per event.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  type Keys,
  knock,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  sendUdp,
} from "../helpers/netns.js";
import {
  fetchInNetns,
  missingPrometheus,
  PROMTOOL,
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from "../helpers/prometheus.js";

const PORT = 2222;
const DASHBOARD = fileURLToPath(new URL("../../../contrib/grafana-fwknopd.json", import.meta.url));
const METRICS = "127.0.0.1:9731";

describe("Prometheus scrapes fwknopd: counters equal a known mix of knocks", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  let prom: RunningPrometheus;
  const good = randomKeys();

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} is missing: apt-get install fwknop-client`);
    const missing = missingPrometheus();
    if (missing) assert.fail(missing);
    pair = await createNetnsPair("metrics");
    await hideServices(pair.server);
    const access = accessStanza(good, { OPEN_PORTS: `tcp/${PORT}`, FW_ACCESS_TIMEOUT: "30" });
    daemon = await startDaemon(
      writeConfigDir({ METRICS_LISTEN: METRICS, LOG_FORMAT: "json" }, access),
      {
        netns: pair.server,
      },
    );
    prom = await startPrometheus(pair.server, [METRICS]);
  });

  after(async () => {
    await prom?.stop();
    await daemon?.stop();
    await pair?.cleanup();
  });

  /** Sends one knock and waits for the daemon's line that ends it. */
  const step = async (send: () => Promise<unknown>, done: RegExp) => {
    const since = daemon.output().length;
    await send();
    await daemon.waitForLog(done, 15_000, since);
  };
  const c = (keys: Keys, port = PORT, extra: string[] = []) => knock(pair, keys, { port, extra });

  test("valid, replayed, wrong key, wrong HMAC type, stale, disallowed port", async () => {
    let wire = "";
    await step(async () => (wire = await c(good)), /Added access rule/);
    await step(() => sendUdp(pair.client, pair.serverIp, 62201, wire), /\[SPA_MSG_REPLAY\]/);
    await step(() => c(randomKeys()), /\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/);
    await step(
      () => c(good, PORT, ["--hmac-digest-type", "sha512"]),
      /\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/,
    );
    await step(() => c(good, PORT, ["--time-offset-minus", "10m"]), /\[SPA_MSG_TOO_OLD\]/);
    await step(() => c(good, 2223), /\[FWK_ERR_SPA_PORTS_DENIED\]/);

    const byOutcome = (s: PromSample[]) =>
      Object.fromEntries(s.map((x) => [x.labels.outcome ?? "", x.value]));
    const total = (s: PromSample[]) => s.reduce((a, x) => a + x.value, 0);
    const samples = await prom.waitFor("fwknopd_packets_total", (s) => total(s) >= 6);
    assert.deepEqual(byOutcome(samples), {
      GRANTED: 1,
      SPA_MSG_REPLAY: 1,
      FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL: 2,
      SPA_MSG_TOO_OLD: 1,
      FWK_ERR_SPA_PORTS_DENIED: 1,
    });
    const one = async (expr: string) => (await prom.query(expr))[0]?.value;
    assert.equal(await one('fwknopd_grants_active{backend="iptables"}'), 1);
    assert.equal(await one('fwknopd_grants_added_total{backend="iptables"}'), 1);
    assert.equal(await one('fwknopd_grants_failed_total{backend="iptables"}'), 0);
    assert.equal(await one("fwknopd_knock_to_rule_seconds_count"), 1);
    // Digests of the packets that authenticated: valid, stale, disallowed port.
    assert.equal(await one("fwknopd_replay_cache_entries"), 3);
    assert.ok(((await one("fwknopd_firewall_batch_rules_count")) ?? 0) >= 1, "batches");
    assert.equal(await one("fwknopd_udp_receive_drops_total"), 0);
    assert.ok(((await one("process_resident_memory_bytes")) ?? 0) > 0, "process metrics");
  });

  test("promtool check metrics is clean on our exposition", async () => {
    const text = await fetchInNetns(pair.server, `http://${METRICS}/metrics`);
    assert.match(text, /^fwknopd_packets_total\{outcome="GRANTED"\} 1$/m);
    const lint = await run([PROMTOOL, "check", "metrics"], { input: text });
    assert.equal(lint.code, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
  });

  test("LOG_FORMAT json: every stderr line is one object; the knocks' events carry their fields", () => {
    const lines = daemon.output().split("\n").filter(Boolean);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) {
      assert.equal(typeof e.time, "string");
      assert.ok(
        ["error", "warn", "notice", "info", "debug"].includes(String(e.level)),
        String(e.level),
      );
      assert.equal(typeof e.event, "string");
      assert.equal(typeof e.message, "string");
    }
    const of = (name: string) => events.filter((e) => e.event === name);
    const accepted = of("spa.accepted");
    assert.equal(accepted.length, 1);
    assert.deepEqual(
      [accepted[0]?.srcIp, accepted[0]?.stanza, accepted[0]?.messageType, accepted[0]?.ports],
      [pair.clientIp, 1, 1, `tcp/${PORT}`],
    );
    const added = of("grant.added");
    assert.equal(added.length, 1);
    assert.equal(added[0]?.srcIp, pair.clientIp);
    assert.equal(added[0]?.ports, `tcp/${PORT}`);
    assert.equal(typeof added[0]?.expiry, "number");
    assert.equal(typeof added[0]?.grantId, "string");
    const refusals = of("spa.refused").map((e) => [e.code, e.srcIp, e.stanza ?? null]);
    assert.deepEqual(refusals, [
      ["SPA_MSG_REPLAY", pair.clientIp, null],
      ["FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", pair.clientIp, 1],
      ["FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", pair.clientIp, 1],
      ["SPA_MSG_TOO_OLD", pair.clientIp, 1],
      ["FWK_ERR_SPA_PORTS_DENIED", pair.clientIp, 1],
    ]);
    assert.ok(
      of("spa.refused").every((e) => e.level === "warn"),
      "refusals at warning, as 2.6.10",
    );
  });

  test("every query of the Grafana dashboard runs on this Prometheus", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr]));
    assert.ok(exprs.length >= 10);
    for (const [title, expr] of exprs) {
      const concrete = (expr ?? "")
        .replaceAll("$__rate_interval", "1m")
        .replaceAll('"$job"', '".*"')
        .replaceAll('"$instance"', '".*"');
      await assert.doesNotReject(prom.query(concrete), `${title}: ${concrete}`);
    }
    const granted = await prom.query(
      'sum(fwknopd_packets_total{job=~".*", instance=~".*", outcome="GRANTED"})',
    );
    assert.equal(granted[0]?.value, 1, "the dashboard's selectors match our series");
  });
});
