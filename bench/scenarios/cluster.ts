/**
 * Scenario 8, several gateways on one Redis (ours only: fwknopd 2.6.10 has no cluster mode).
 * - fan-out: a knock at gateway A, timed until the hidden port accepts on gateway B;
 * - zero-loss grants/s of one gateway in cluster mode (shared replay cache + grant publishing)
 *   against the same gateway with its local cache, same run;
 * - the 50k/s junk flood in cluster mode, with Redis's own command counts (INFO commandstats):
 *   junk must not reach Redis, so the counts are those of the valid knocks alone.
 * Every Redis is a fresh redis-server (no persistence) inside the bench namespaces.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { runChecked } from "../../src/sys/run.js";
import { createClusterNet } from "../../test/helpers/cluster-net.js";
import { startHiddenService, vethDevice } from "../../test/helpers/netns.js";
import { commandCalls, startRedis } from "../../test/helpers/redis.js";
import { startBenchDaemon } from "../lib/daemon.js";
import { guardHiddenPort, HIDDEN_PORT, startProber } from "../lib/net.js";
import { track } from "../lib/reaper.js";
import { type Measurement, percentile, type ScenarioContext, sleep } from "../lib/result.js";
import { accessFor, newKeys, type PrepareNet } from "./common.js";
import { flood, WORST_SHAPE } from "./junk.js";
import { highestZeroLoss } from "./throughput.js";

/** Per direction; two addresses per trial must fit in 192.0.2.30–.254. */
const TRIALS = 100;
const JUNK_RATE = 50_000;
/** Commands a gateway sends for its own knocks and grants (the rest is polling and our INFO). */
const KNOCK_COMMANDS = ["set", "get", "multi", "xadd", "zadd", "zremrangebyscore", "exec"];

function clusterConf(url: string, key: string): Record<string, string> {
  return {
    REPLAY_CACHE_URL: url,
    CLUSTER_GRANTS: "Y",
    CLUSTER_NAME: "bench",
    CLUSTER_KEY_BASE64: key,
  };
}

/** A redis-server inside the bench server namespace (loopback TCP) and cluster mode on. */
const withRedis: PrepareNet = async (net) => {
  const redis = await startRedis({
    netns: net.pair.server,
    tcp: { host: "127.0.0.1", port: 6379 },
  });
  const admin = new Redis({ path: redis.socket, lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  const before = commandCalls(await admin.info("commandstats"));
  return {
    conf: clusterConf(redis.tcpUrl ?? "", randomBytes(32).toString("base64")),
    async measure() {
      const after = commandCalls(await admin.info("commandstats"));
      return Object.fromEntries(
        KNOCK_COMMANDS.map((c) => [c, (after.get(c) ?? 0) - (before.get(c) ?? 0)]),
      );
    },
    async stop() {
      admin.disconnect();
      await redis.stop();
    },
  };
};

/**
 * Knock at A, connect to B (fan-out) or to A itself (the same run's local reference),
 * alternately: one sample per fresh client address.
 */
async function fanoutSamples(trials: number): Promise<{ remote: number[]; local: number[] }> {
  const keys = newKeys();
  const net = await createClusterNet("bclu", 2);
  const stops: (() => Promise<unknown> | unknown)[] = [() => net.cleanup()];
  try {
    const redis = await startRedis({
      netns: net.redis.ns,
      tcp: { host: net.redis.ip, port: 6379 },
    });
    stops.push(() => redis.stop());
    const key = randomBytes(32).toString("base64");
    for (const gw of net.gateways) {
      await guardHiddenPort(gw.ns);
      const svc = track(await startHiddenService(gw.ns, HIDDEN_PORT));
      stops.push(() => svc.kill());
      const d = await startBenchDaemon({
        kind: "ours",
        netns: gw.ns,
        conf: clusterConf(redis.tcpUrl ?? "", key),
        access: accessFor(keys, { FW_ACCESS_TIMEOUT: "3600" }),
      });
      stops.push(() => d.stop());
    }
    const dev = await vethDevice(net.client.ns);
    // 192.0.2.30 … .231: clear of the gateways (.1–.3), the client (.10) and Redis (.20).
    const ip = (i: number) => `192.0.2.${30 + i}`;
    const [a, b] = net.gateways;
    if (!a || !b) throw new Error("two gateways expected");
    const toB = await startProber({ client: net.client.ns, serverIp: a.ip }, keys, b.ip);
    stops.push(() => toB.close());
    const toA = await startProber({ client: net.client.ns, serverIp: a.ip }, keys);
    stops.push(() => toA.close());
    const remote: number[] = [];
    const local: number[] = [];
    // Trials 0 and 1 warm up (connections, JIT) and are not counted.
    for (let i = 0; i < 2 * trials + 2; i++) {
      await runChecked(["ip", "-n", net.client.ns, "addr", "add", `${ip(i)}/24`, "dev", dev]);
      const prober = i % 2 === 0 ? toB : toA;
      const r = await prober.ask<{ ms: number }>({
        op: "knock",
        allowIp: ip(i),
        timeoutMs: 20_000,
      });
      if (!r.ok) throw new Error(`knock at A from ${ip(i)} never opened the port (${r.error})`);
      if (i >= 2) (i % 2 === 0 ? remote : local).push(r.ms);
      await sleep(20);
    }
    const sort = (x: number[]) => x.sort((p, q) => p - q);
    return { remote: sort(remote), local: sort(local) };
  } finally {
    for (const s of stops.reverse()) await s();
  }
}

export async function cluster(ctx: ScenarioContext): Promise<Measurement[]> {
  if (!ctx.kinds.includes("ours")) return [];
  const base = { scenario: "cluster", values: {} };
  const fan = await fanoutSamples(ctx.quick ? 10 : TRIALS);
  const p = (x: number[], q: number) => percentile(x, q);
  ctx.log(
    `cluster fan-out: A→B p50 ${p(fan.remote, 50).toFixed(2)} ms, p99 ${p(fan.remote, 99).toFixed(2)} ms; A→A p50 ${p(fan.local, 50).toFixed(2)} ms (${fan.remote.length} + ${fan.local.length} knocks)`,
  );
  const row = (metric: string, value: number, goal?: number): Measurement => ({
    ...base,
    condition: "2 gateways, 1 Redis",
    metric,
    unit: "ms",
    better: "lower",
    values: { ours: value },
    ...(goal !== undefined ? { goal: { op: "<=" as const, value: goal } } : {}),
  });
  const fanout: Measurement[] = [
    row("knock at A → port open at B p50", p(fan.remote, 50), 20),
    row("knock at A → port open at B p99", p(fan.remote, 99)),
    row("knock at A → port open at A p50 (same run, reference)", p(fan.local, 50)),
  ];

  const local = await highestZeroLoss("ours", ctx);
  const shared = await highestZeroLoss("ours", ctx, withRedis);
  ctx.log(`cluster throughput: local ${local.rate}/s, shared ${shared.rate}/s`);
  const rate = (condition: string, value: number, goal?: number): Measurement => ({
    ...base,
    condition,
    metric: "highest zero-loss rate",
    unit: "grants/s",
    better: "higher",
    values: { ours: value },
    ...(goal !== undefined ? { goal: { op: ">=" as const, value: goal } } : {}),
  });

  const plain = await flood("ours", JUNK_RATE);
  const clustered = await flood("ours", JUNK_RATE, "udp", WORST_SHAPE, { prepare: withRedis });
  const calls = clustered.extra ?? {};
  ctx.log(
    `cluster junk: ${plain.share}% local, ${clustered.share}% cluster; Redis ${JSON.stringify(calls)}`,
  );
  const junkRow = (condition: string, share: number): Measurement => ({
    ...base,
    condition,
    metric: "valid knocks granted",
    unit: "%",
    better: "higher",
    values: { ours: share },
  });
  return [
    ...fanout,
    rate("local replay cache", local.rate),
    // Goal: at least half the local figure, measured in the same run.
    rate("cluster mode: shared replay cache + fan-out", shared.rate, Math.ceil(local.rate / 2)),
    junkRow(`${JUNK_RATE / 1000}k junk/s, local replay cache`, plain.share),
    junkRow(`${JUNK_RATE / 1000}k junk/s, cluster mode`, clustered.share),
    {
      ...base,
      condition: `${JUNK_RATE / 1000}k junk/s, cluster mode, 100 valid knocks`,
      metric: "Redis SET calls (replay claims)",
      unit: "calls",
      better: "lower",
      values: { ours: calls.set ?? Number.NaN },
      notes: { ours: `XADD ${calls.xadd ?? "?"}, GET ${calls.get ?? "?"}: junk sent none` },
    },
  ];
}
