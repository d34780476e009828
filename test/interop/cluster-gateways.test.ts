/**
 * Several gateways, one policy, end to end: three of our fwknopd (iptables chain mode, each in
 * its own namespace, default-drop INPUT), a client namespace with the C fwknop 2.6.10 and a real
 * redis-server namespace, all on one bridge (192.0.2.0/24). Gateways A and B run
 * CLUSTER_FAIL_MODE closed, C runs local.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { type ClusterGrant, signGrant } from "../../src/cluster/grant-message.js";
import { run } from "../../src/sys/run.js";
import { type ClusterNet, createClusterNet } from "../helpers/cluster-net.js";
import {
  accessStanza,
  type ConfigDir,
  knock,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  hideServices,
  sendUdp,
  startHiddenService,
} from "../helpers/netns.js";
import { commandCalls, type RedisServer, startRedis } from "../helpers/redis.js";

const skip = canUseNetns() ? false : "needs root and iproute2 (network namespaces)";
const CLUSTER = "site";
const SERVICE = 5001;
const LATE_SERVICE = 5006;

/** Our rules in FWKNOP_INPUT of `ns` for the client and this port: their `_exp_` times. */
async function expiries(ns: string, port: number, clientIp: string): Promise<number[]> {
  const r = await run(["iptables", "-S", "FWKNOP_INPUT"], { netns: ns });
  return r.stdout
    .split("\n")
    .filter((l) => l.includes(`-s ${clientIp}/32`) && new RegExp(`--dport ${port}\\b`).test(l))
    .map((l) => Number(/_exp_(\d+)/.exec(l)?.[1]));
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("three gateways on one Redis", { skip }, () => {
  let net: ClusterNet;
  let redis: RedisServer;
  let admin: Redis;
  const keys = randomKeys();
  const clusterKey = randomBytes(32);
  const cfgs: ConfigDir[] = [];
  const gws: RunningDaemon[] = [];
  const services: ChildProcess[] = [];
  let client: { client: string; clientIp: string };
  const to = (i: number) => ({ ...client, serverIp: net.gateways[i]?.ip ?? "" });
  const ns = (i: number) => net.gateways[i]?.ns ?? "";
  const rules = (i: number, port: number) => expiries(ns(i), port, client.clientIp);
  const mark = () => gws.map((g) => g.output().length);

  async function startGateway(i: number): Promise<RunningDaemon> {
    const d = await startDaemon(cfgs[i] as ConfigDir, { netns: ns(i) });
    await d.waitForLog(/Cluster: caught up on/, 20_000);
    gws[i] = d;
    return d;
  }

  before(async () => {
    net = await createClusterNet("clu");
    client = { client: net.client.ns, clientIp: net.client.ip };
    redis = await startRedis({ netns: net.redis.ns, tcp: { host: net.redis.ip, port: 6379 } });
    admin = new Redis({ path: redis.socket, maxRetriesPerRequest: 1, lazyConnect: true });
    for (const [i, gw] of net.gateways.entries()) {
      await hideServices(gw.ns);
      services.push(await startHiddenService(gw.ns, SERVICE));
      cfgs.push(
        writeConfigDir(
          {
            REPLAY_CACHE_URL: redis.tcpUrl ?? "",
            CLUSTER_GRANTS: "Y",
            CLUSTER_NAME: CLUSTER,
            CLUSTER_KEY_BASE64: clusterKey.toString("base64"),
            CLUSTER_FAIL_MODE: i === 2 ? "local" : "closed",
          },
          // Long enough for the checks while a grant is open on a loaded machine.
          accessStanza(keys, { FW_ACCESS_TIMEOUT: "15" }),
        ),
      );
    }
    services.push(await startHiddenService(ns(2), LATE_SERVICE));
    for (let i = 0; i < 3; i++) await startGateway(i);
  });

  after(async () => {
    for (const g of gws) await g.stop();
    for (const s of services) s.kill();
    admin?.disconnect();
    await redis?.stop();
    await net?.cleanup();
  });

  test("a knock to A opens B and C at the same expiry; replays to B and C are refused; all close", async () => {
    const wire = await knock(to(0), keys, { port: SERVICE });
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, SERVICE)).length === 1, `rule on gateway ${i}`);
    const exp = await Promise.all([0, 1, 2].map((i) => rules(i, SERVICE)));
    assert.equal(
      new Set(exp.flat()).size,
      1,
      `one absolute expiry everywhere: ${JSON.stringify(exp)}`,
    );
    for (const gw of net.gateways)
      assert.ok(await canConnect(client.client, gw.ip, SERVICE), gw.ip);

    const since = mark();
    await sendUdp(client.client, `${net.gateways[1]?.ip},${net.gateways[2]?.ip}`, 62201, wire);
    for (const i of [1, 2])
      await gws[i]?.waitForLog(/Replay detected .*\[SPA_MSG_REPLAY\]/, 15_000, since[i]);
    for (let i = 0; i < 3; i++)
      assert.equal((await rules(i, SERVICE)).length, 1, "no duplicate rule");

    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, SERVICE)).length === 0, `expiry on ${i}`, 60_000);
    for (const gw of net.gateways)
      assert.equal(await canConnect(client.client, gw.ip, SERVICE), false);
  });

  test("one fresh packet sent to A, B and C at once: exactly one accepts, its grant reaches all", async () => {
    const port = 5002;
    // Built and sent to an address nobody has, so the first copies the gateways see are ours.
    const wire = await knock({ ...client, serverIp: "192.0.2.99" }, keys, { port });
    const since = mark();
    await sendUdp(client.client, net.gateways.map((g) => g.ip).join(","), 62201, wire);
    const verdict = /received with access source match|\[SPA_MSG_REPLAY\]/;
    const lines = await Promise.all(gws.map((g, i) => g.waitForLog(verdict, 15_000, since[i])));
    assert.equal(lines.filter((l) => /access source match/.test(l)).length, 1, lines.join("\n"));
    assert.equal(lines.filter((l) => /SPA_MSG_REPLAY/.test(l)).length, 2, lines.join("\n"));
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, port)).length === 1, `rule on ${i}`);
    const exp = await Promise.all([0, 1, 2].map((i) => rules(i, port)));
    assert.deepEqual(
      exp.map((e) => e.length),
      [1, 1, 1],
      "one rule per gateway, no duplicates",
    );
  });

  test("a re-knock at another gateway refreshes the grant everywhere, never a second rule", async () => {
    const port = 5011;
    await knock(to(0), keys, { port });
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, port)).length === 1, `rule on ${i}`);
    const [first] = await rules(0, port);
    await knock(to(2), keys, { port, extra: ["--fw-timeout", "40"] });
    for (let i = 0; i < 3; i++) {
      await until(async () => ((await rules(i, port))[0] ?? 0) > (first ?? 0), `refresh on ${i}`);
      assert.equal((await rules(i, port)).length, 1, `one rule on ${i}`);
    }
    const exp = await Promise.all([0, 1, 2].map((i) => rules(i, port)));
    assert.equal(new Set(exp.flat()).size, 1, JSON.stringify(exp));
  });

  test("Redis killed: closed refuses, local grants alone, open grants still close; restart resumes", async () => {
    await knock(to(0), keys, { port: SERVICE });
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, SERVICE)).length === 1, `rule on ${i}`);
    let since = mark();
    await redis.kill();
    for (const [i, g] of gws.entries())
      await g.waitForLog(/lost the connection.*\[FWK_ERR_CLUSTER_LINK\]/, 15_000, since[i]);

    since = mark();
    await knock(to(0), keys, { port: 5003 });
    await gws[0]?.waitForLog(
      /knock from .* refused \(CLUSTER_FAIL_MODE closed\) \[FWK_ERR_CLUSTER_UNAVAILABLE\]/,
      15_000,
      since[0],
    );
    assert.equal((await rules(0, 5003)).length, 0);

    await knock(to(2), keys, { port: 5004, extra: ["--fw-timeout", "60"] });
    await gws[2]?.waitForLog(
      /local replay cache only .*\[FWK_ERR_CLUSTER_UNAVAILABLE\]/,
      15_000,
      since[2],
    );
    await until(async () => (await rules(2, 5004)).length === 1, "C's local grant");

    // The grant opened before the crash closes on time everywhere, Redis or not.
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, SERVICE)).length === 0, `expiry on ${i}`, 60_000);
    for (const g of gws) assert.equal(g.proc.exitCode, null, "no gateway died");

    since = mark();
    await redis.restart();
    for (const [i, g] of gws.entries())
      await g.waitForLog(/Cluster: caught up on/, 30_000, since[i]);
    // The command link reconnects on its own backoff; until then a knock is refused (closed).
    for (const [i, g] of gws.entries())
      await g.waitForLog(/Cluster: connected to the shared store/, 30_000, since[i]);
    // C's grant from the outage is published once the store is back, and A and B apply it.
    for (const i of [0, 1])
      await until(async () => (await rules(i, 5004)).length === 1, `outage grant on ${i}`);
    const exp = await Promise.all([0, 1, 2].map((i) => rules(i, 5004)));
    assert.equal(new Set(exp.flat()).size, 1, JSON.stringify(exp));

    await knock(to(1), keys, { port: 5005 });
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, 5005)).length === 1, `fan-out after restart on ${i}`);
  });

  test("a restarted gateway applies the live grants it missed, never the expired ones", async () => {
    await gws[2]?.stop();
    const short = 5007;
    await knock(to(0), keys, { port: short, extra: ["--fw-timeout", "2"] });
    await knock(to(0), keys, { port: LATE_SERVICE, extra: ["--fw-timeout", "60"] });
    await until(async () => (await rules(0, LATE_SERVICE)).length === 1, "A's long grant");
    await until(async () => (await rules(0, short)).length === 0, "A's short grant to expire");
    // The short grant is still in the stream; only its expiry keeps it out.
    await until(async () => (await rules(1, short)).length === 0, "B's short grant to expire");

    const c = await startGateway(2);
    await until(async () => (await rules(2, LATE_SERVICE)).length === 1, "C to catch up");
    assert.deepEqual(await rules(2, LATE_SERVICE), await rules(0, LATE_SERVICE));
    assert.equal((await rules(2, short)).length, 0);
    assert.doesNotMatch(c.output(), new RegExp(`tcp/${short}`));
    assert.ok(await canConnect(client.client, net.gateways[2]?.ip ?? "", LATE_SERVICE));
  });

  test("a fan-out message written straight into Redis without the cluster key opens nothing", async () => {
    await admin.connect().catch(() => undefined);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const grant = (port: number, origin: string): ClusterGrant => ({
      origin,
      clientIp: client.clientIp,
      packetDstIp: "0.0.0.0/0",
      ports: [{ proto: "tcp", port }],
      messageType: 1,
      stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
      timeout: 60,
      expiresAt: exp,
    });
    const forged = signGrant(grant(5008, "mallory"), randomBytes(32), CLUSTER);
    const since = mark();
    await admin.xadd(`{${CLUSTER}}:grants`, "*", "m", forged.body, "s", forged.sig);
    await admin.xadd(`{${CLUSTER}}:grants`, "*", "m", forged.body);
    await admin.zadd(`{${CLUSTER}}:live`, exp, `${forged.sig} ${forged.body}`);
    for (const [i, g] of gws.entries())
      await g.waitForLog(/\[FWK_ERR_CLUSTER_FORGED\]/, 15_000, since[i]);
    // The same message signed with the cluster key does open: the check above is what refused.
    const genuine = signGrant(grant(5009, "test-harness"), clusterKey, CLUSTER);
    await admin.xadd(`{${CLUSTER}}:grants`, "*", "m", genuine.body, "s", genuine.sig);
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, 5009)).length === 1, `genuine on ${i}`);
    for (let i = 0; i < 3; i++) assert.equal((await rules(i, 5008)).length, 0, `forged on ${i}`);
    // Counted, and SIGUSR1 says so.
    const before = gws[0]?.output().length ?? 0;
    gws[0]?.proc.kill("SIGUSR1");
    await gws[0]?.waitForLog(/cluster 'site': .*applied \d+.*forged [1-9]/, 10_000, before);
  });

  test("junk and packets with a wrong HMAC key never reach Redis", async () => {
    await admin.connect().catch(() => undefined);
    const before = commandCalls(await admin.info("commandstats"));
    const since = mark();
    const junk = Array.from({ length: 5 }, () => randomBytes(120).toString("base64"));
    for (const text of junk) await sendUdp(client.client, net.gateways[0]?.ip ?? "", 62201, text);
    await knock(to(0), randomKeys(), { port: SERVICE });
    await gws[0]?.waitForLog(
      /\[FKO_ERROR_[A-Z_]*HMAC|\[FKO_ERROR_DIGEST|\[FKO_ERROR_DECRYPT/,
      15_000,
      since[0],
    );
    const after = commandCalls(await admin.info("commandstats"));
    // The fan-out readers poll with XREAD and the harness asks INFO; nothing else may move.
    for (const cmd of ["set", "get", "xadd", "zadd", "multi", "exec"])
      assert.equal(after.get(cmd) ?? 0, before.get(cmd) ?? 0, `cmdstat_${cmd}`);
    assert.equal((await rules(0, SERVICE)).length, 0);
    // A good knock is one claim (SET NX) and one publish: the counters above do move.
    await knock(to(0), keys, { port: SERVICE });
    await until(async () => (await rules(0, SERVICE)).length === 1, "the good knock's rule");
    const good = commandCalls(await admin.info("commandstats"));
    assert.equal(good.get("set"), (before.get("set") ?? 0) + 1);
    assert.equal(good.get("xadd"), (before.get("xadd") ?? 0) + 1);
  });

  test("a gateway started while Redis is down starts, refuses (closed), and joins once it is up", async () => {
    await gws[1]?.stop();
    await redis.kill();
    const b = await startDaemon(cfgs[1] as ConfigDir, { netns: ns(1) });
    gws[1] = b;
    const port = 5010;
    let since = b.output().length;
    await knock(to(1), keys, { port });
    await b.waitForLog(
      /refused \(CLUSTER_FAIL_MODE closed\) \[FWK_ERR_CLUSTER_UNAVAILABLE\]/,
      15_000,
      since,
    );
    assert.equal((await rules(1, port)).length, 0);
    since = b.output().length;
    await redis.restart();
    await b.waitForLog(/Cluster: caught up on/, 30_000, since);
    await b.waitForLog(/Cluster: connected to the shared store/, 30_000, since);
    await knock(to(1), keys, { port });
    for (let i = 0; i < 3; i++)
      await until(async () => (await rules(i, port)).length === 1, `grant on ${i}`);
    for (const g of gws) assert.equal(g.proc.exitCode, null, "no gateway died");
  });
});
