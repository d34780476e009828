/**
 * The cluster pieces against a real redis-server (started here, unix socket, no persistence):
 * the atomic replay claim, fail modes across a Redis crash and restart, and the signed grant
 * fan-out with catch-up, forged and expired messages.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { clusterLinkChannel, fanoutChannel } from "../../src/cluster/channels.js";
import { GrantFanout } from "../../src/cluster/fanout.js";
import { type ClusterGrant, signGrant } from "../../src/cluster/grant-message.js";
import { closeLink, openRedisLink, type RedisLink } from "../../src/cluster/redis-link.js";
import { type ClusterSettings, parseStoreUrl } from "../../src/cluster/settings.js";
import { RedisReplayStore } from "../../src/cluster/shared-replay.js";
import type { GrantRequest } from "../../src/firewall/rules.js";
import type { ReplayEntry } from "../../src/server/replay/replay-cache.js";
import { recorder } from "../helpers/recording-logger.js";
import { type RedisServer, startRedis } from "../helpers/redis.js";

const KEY = randomBytes(32);

let redis: RedisServer;
let admin: Redis;
const links: RedisLink[] = [];

before(async () => {
  redis = await startRedis();
  admin = new Redis({ path: redis.socket, maxRetriesPerRequest: 1 });
});

after(async () => {
  for (const l of links) await closeLink(l);
  admin?.disconnect();
  await redis.stop();
});

function settings(over: Partial<ClusterSettings> = {}): ClusterSettings & { key: Buffer } {
  const address = parseStoreUrl(redis.socketUrl);
  assert.ok(typeof address !== "string");
  return {
    address,
    display: redis.socketUrl,
    name: `t${randomBytes(3).toString("hex")}`,
    grants: true,
    key: KEY,
    failMode: "closed",
    tls: {},
    streamMaxLen: 1000,
    replayTtlMs: 300_000,
    ...over,
  } as ClusterSettings & { key: Buffer };
}

async function link(s: ClusterSettings, log = recorder()): Promise<RedisLink> {
  const l = await openRedisLink({ settings: s, log, role: "test", commandTimeoutMs: 10_000 });
  links.push(l);
  return l;
}

function entry(digest: string, srcIp = "198.18.10.10"): ReplayEntry {
  return {
    digest,
    proto: 17,
    srcIp,
    srcPort: 40000,
    dstIp: "198.18.10.1",
    dstPort: 62201,
    time: 1_700_000_000,
  };
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("shared replay claim", () => {
  test("the first claim wins, the second is a replay naming the original; the key has the TTL", async () => {
    const s = settings();
    const store = new RedisReplayStore(await link(s), s, recorder());
    const digest = randomBytes(32).toString("base64").replace(/=+$/, "");
    assert.deepEqual(await store.claim(entry(digest)), { ok: true });
    const again = await store.claim(entry(digest, "198.18.10.66"));
    assert.equal(again.ok, false);
    assert.ok(!again.ok && again.code === "SPA_MSG_REPLAY");
    assert.match(
      again.ok ? "" : again.detail,
      /Replay detected from source IP: 198\.18\.10\.66, .*Original source IP: 198\.18\.10\.10, Original dst proto\/port: 17\/62201/,
    );
    const ttl = await admin.pttl(`${s.name}:replay:${digest}`);
    assert.ok(ttl > 0 && ttl <= 300_000, `PTTL ${ttl}`);
  });

  test("three gateways claiming the same digest at once: exactly one wins", async () => {
    const s = settings();
    const stores = await Promise.all(
      [1, 2, 3].map(async () => new RedisReplayStore(await link(s), s, recorder())),
    );
    for (let round = 0; round < 20; round++) {
      const digest = randomBytes(32).toString("base64");
      const results = await Promise.all(stores.map((st) => st.claim(entry(digest))));
      assert.equal(results.filter((r) => r.ok).length, 1, `round ${round}`);
      assert.equal(results.filter((r) => !r.ok && r.code === "SPA_MSG_REPLAY").length, 2);
    }
  });

  test("fail modes across a Redis crash, then reconnect", async () => {
    const closed = settings({ failMode: "closed" });
    const local = { ...closed, failMode: "local" as const };
    const localLog = recorder();
    const l = await link(closed);
    const strict = new RedisReplayStore(l, closed, recorder());
    const lenient = new RedisReplayStore(l, local, localLog);
    const states: boolean[] = [];
    const onLink = (m: unknown) => states.push((m as { up: boolean }).up);
    clusterLinkChannel.subscribe(onLink);
    await redis.kill();
    const refused = await strict.claim(entry(randomBytes(32).toString("base64")));
    assert.ok(
      !refused.ok && refused.code === "FWK_ERR_CLUSTER_UNAVAILABLE",
      JSON.stringify(refused),
    );
    assert.match(refused.ok ? "" : refused.detail, /CLUSTER_FAIL_MODE closed/);
    assert.deepEqual(await lenient.claim(entry(randomBytes(32).toString("base64"))), { ok: true });
    assert.ok(localLog.lines.some((x) => /\[FWK_ERR_CLUSTER_UNAVAILABLE\]/.test(x)));
    await redis.restart();
    await until(() => l.status === "ready", "the link to reconnect");
    clusterLinkChannel.unsubscribe(onLink);
    assert.equal(states[0], false, JSON.stringify(states));
    assert.equal(states.at(-1), true, JSON.stringify(states));
    assert.deepEqual(await strict.claim(entry(randomBytes(32).toString("base64"))), { ok: true });
  });
});

const REQ: GrantRequest = {
  clientIp: "198.18.10.10",
  packetDstIp: "198.18.10.1",
  ports: [{ proto: "tcp", port: 5001 }],
  messageType: 1,
  timeout: 30,
  stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
};

async function gateway(s: ClusterSettings & { key: Buffer }) {
  const log = recorder();
  const applied: { req: GrantRequest; expiresAt: number }[] = [];
  const fan = new GrantFanout({
    settings: s,
    link: await link(s, log),
    reader: await link(s, log),
    log,
  });
  fan.start(async (g: ClusterGrant) => {
    applied.push({ req: g, expiresAt: g.expiresAt });
  });
  return { fan, applied, log };
}

describe("grant fan-out", () => {
  test("a grant published on A is applied on B (not again on A); forged and expired ones never", async () => {
    const outcomes = new Set<string>();
    const onOutcome = (m: unknown) => outcomes.add((m as { outcome: string }).outcome);
    fanoutChannel.subscribe(onOutcome);
    const s = settings();
    const a = await gateway(s);
    const b = await gateway(s);
    await until(() => a.log.lines.some((l) => /caught up/.test(l)), "A's catch-up");
    await until(() => b.log.lines.some((l) => /caught up/.test(l)), "B's catch-up");
    const exp = Math.floor(Date.now() / 1000) + 30;
    a.fan.publish(REQ, exp);
    await until(() => b.applied.length === 1, "B to apply A's grant");
    assert.equal(b.applied[0]?.expiresAt, exp);
    assert.equal(b.applied[0]?.req.clientIp, "198.18.10.10");
    assert.equal(a.applied.length, 0);

    // Written straight into Redis: no signature, a wrong key, a right key for another cluster.
    const forged: ClusterGrant = {
      ...REQ,
      ports: [...REQ.ports],
      origin: "mallory",
      expiresAt: exp,
    };
    const wrongKey = signGrant(forged, randomBytes(32), s.name);
    const otherCluster = signGrant(forged, KEY, "other");
    const stream = `{${s.name}}:grants`;
    await admin.xadd(stream, "*", "m", wrongKey.body);
    await admin.xadd(stream, "*", "m", wrongKey.body, "s", wrongKey.sig);
    await admin.xadd(stream, "*", "m", otherCluster.body, "s", otherCluster.sig);
    await admin.zadd(`{${s.name}}:live`, exp, `${wrongKey.sig} ${wrongKey.body}`);
    // Correctly signed but already expired: never applied.
    const stale = signGrant({ ...forged, origin: "old", expiresAt: exp - 3600 }, KEY, s.name);
    await admin.xadd(stream, "*", "m", stale.body, "s", stale.sig);
    await until(() => b.fan.counts.forged >= 3 && b.fan.counts.expired >= 1, "B to count them");
    assert.equal(b.applied.length, 1);
    assert.ok(b.log.lines.some((l) => /\[FWK_ERR_CLUSTER_FORGED\]/.test(l)));

    // A gateway starting now catches up on the live grant, ignores the forged live member.
    const c = await gateway(s);
    await until(() => c.applied.length === 1, "C to catch up");
    assert.equal(c.applied[0]?.expiresAt, exp);
    await until(() => c.fan.counts.forged >= 1, "C to count the forged live member");
    for (const g of [a, b, c]) await g.fan.stop();
    // A deliberate stop is no outage: no "lost the connection" warning.
    for (const g of [a, b, c]) assert.ok(!g.log.lines.some((l) => /lost the connection/.test(l)));
    fanoutChannel.unsubscribe(onOutcome);
    assert.deepEqual([...outcomes].sort(), ["applied", "expired", "forged", "own", "published"]);
  });

  test("connections dropped while the store keeps its data: nothing published meanwhile is lost", async () => {
    const s = settings();
    const a = await gateway(s);
    const b = await gateway(s);
    await until(() => b.log.lines.filter((l) => /caught up/.test(l)).length === 1, "B's catch-up");
    const exp = Math.floor(Date.now() / 1000) + 60;
    // Every gateway connection goes at once (the harness's own is skipped); A publishes at once,
    // while its link and B's reader are reconnecting.
    await admin.client("KILL", "TYPE", "normal");
    a.fan.publish({ ...REQ, clientIp: "198.18.10.21" }, exp);
    await until(() => b.applied.some((x) => x.req.clientIp === "198.18.10.21"), "the grant");
    await until(
      () => b.log.lines.filter((l) => /caught up/.test(l)).length >= 2,
      "B's re-catch-up",
    );
    for (const g of [a, b]) await g.fan.stop();
  });

  test("after a Redis crash and restart the feed resumes; grants made meanwhile are published", async () => {
    const s = settings();
    const a = await gateway(s);
    const b = await gateway(s);
    await until(() => b.log.lines.some((l) => /caught up/.test(l)), "B's catch-up");
    await redis.kill();
    const exp = Math.floor(Date.now() / 1000) + 60;
    a.fan.publish({ ...REQ, clientIp: "198.18.10.11" }, exp); // store down: kept for later
    await redis.restart();
    await until(() => b.applied.some((x) => x.req.clientIp === "198.18.10.11"), "the kept grant");
    a.fan.publish({ ...REQ, clientIp: "198.18.10.12" }, exp);
    await until(() => b.applied.some((x) => x.req.clientIp === "198.18.10.12"), "a new grant");
    for (const g of [a, b]) await g.fan.stop();
  });
});
