/**
 * The store addresses an operator uses, each against real redis-server processes started here:
 * TLS with a client certificate and a least-privilege ACL user (the one docs/cluster.md shows),
 * Sentinel, and Redis Cluster. Each runs a replay claim and a fan-out round trip through
 * clusterSettings() → openRedisLink(), as fwknopd does.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { GrantFanout } from "../../src/cluster/fanout.js";
import type { ClusterGrant } from "../../src/cluster/grant-message.js";
import { closeLink, openRedisLink, type RedisLink } from "../../src/cluster/redis-link.js";
import { type ClusterSettings, clusterSettings } from "../../src/cluster/settings.js";
import { RedisReplayStore } from "../../src/cluster/shared-replay.js";
import type { ServerConfig } from "../../src/config/server-config.js";
import { runChecked } from "../../src/sys/run.js";
import { recorder } from "../helpers/recording-logger.js";
import { freePort, type RedisServer, startRedis } from "../helpers/redis.js";

const servers: RedisServer[] = [];
const links: RedisLink[] = [];
const fanouts: GrantFanout[] = [];
const dirs: string[] = [];
after(async () => {
  for (const f of fanouts) await f.stop();
  for (const l of links) await closeLink(l);
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A temp dir removed after the tests. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function config(values: Record<string, string>): ServerConfig {
  const all: Record<string, string> = {
    CLUSTER_GRANTS: "Y",
    CLUSTER_NAME: "t",
    CLUSTER_KEY_BASE64: randomBytes(32).toString("base64"),
    CLUSTER_FAIL_MODE: "closed",
    CLUSTER_STREAM_MAXLEN: "1000",
    ENABLE_SPA_PACKET_AGING: "Y",
    MAX_SPA_PACKET_AGE: "120",
    ...values,
  };
  return {
    firewallType: "iptables",
    get: ((n: string) => all[n]) as ServerConfig["get"],
    bool: (n) => /^y/i.test(all[n] ?? ""),
    int: (n) => Number.parseInt(all[n] ?? "0", 10) || 0,
    where: () => "fwknopd.conf:1",
    entries: () => [],
  };
}

async function until(cond: () => boolean, what: string, ms = 20_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A replay-cache entry with a fresh digest. */
function entry() {
  return {
    digest: randomBytes(32).toString("base64"),
    proto: 17,
    srcIp: "192.0.2.10",
    srcPort: 4000,
    dstIp: "192.0.2.1",
    dstPort: 62201,
    time: 1_700_000_000,
  };
}

/** One claim twice (won, then replay) and one grant from gateway 1 applied by gateway 2. */
async function roundTrip(s: ClusterSettings): Promise<void> {
  const log = recorder();
  const open = async () => {
    const l = await openRedisLink({ settings: s, log, role: "test", commandTimeoutMs: 10_000 });
    links.push(l);
    return l;
  };
  const store = new RedisReplayStore(await open(), s, log);
  const first = entry();
  assert.deepEqual(await store.claim(first), { ok: true }, log.lines.join("\n"));
  const again = await store.claim(first);
  assert.equal(!again.ok && again.code, "SPA_MSG_REPLAY");

  const key = s.key as Buffer;
  const gw = async () => {
    const applied: ClusterGrant[] = [];
    const f = new GrantFanout({
      settings: { ...s, key },
      link: await open(),
      reader: await open(),
      log,
    });
    fanouts.push(f);
    f.start(async (g) => {
      applied.push(g);
    });
    return { f, applied };
  };
  const a = await gw();
  const b = await gw();
  await until(() => log.lines.filter((l) => /caught up/.test(l)).length >= 2, "catch-up");
  a.f.publish(
    {
      clientIp: "192.0.2.10",
      packetDstIp: "192.0.2.1",
      ports: [{ proto: "tcp", port: 22 }],
      messageType: 1,
      timeout: 30,
      stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
    },
    Math.floor(Date.now() / 1000) + 30,
  );
  await until(() => b.applied.length === 1, `B to apply the grant; log:\n${log.lines.join("\n")}`);
}

/** The ACL docs/cluster.md recommends, for CLUSTER_NAME t. */
const ACL = [
  "fwknopd on >gw-pass resetkeys ~t:replay:* ~{t}:* -@all",
  "+set +get +multi +exec +xadd +xread +xrevrange +zadd +zrangebyscore +zremrangebyscore",
  "+ping +info +client +select",
].join(" ");

describe("store deployments", () => {
  test("rediss:// with CA, client certificate and a least-privilege ACL user", async () => {
    const dir = tempDir("fwk-tls-");
    const f = (n: string) => join(dir, n);
    const ssl = (...a: string[]) => runChecked(["openssl", ...a]);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await ssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      f("ca.key"),
      "-out",
      f("ca.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=fwknop test CA",
    );
    writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1\n");
    for (const who of ["server", "client"]) {
      await ssl(
        "req",
        ...ec,
        "-keyout",
        f(`${who}.key`),
        "-out",
        f(`${who}.csr`),
        "-subj",
        `/CN=${who}`,
      );
      await ssl(
        "x509",
        "-req",
        "-in",
        f(`${who}.csr`),
        "-CA",
        f("ca.pem"),
        "-CAkey",
        f("ca.key"),
        "-CAcreateserial",
        "-out",
        f(`${who}.pem`),
        "-days",
        "1",
        "-extfile",
        f("san.ext"),
      );
    }
    const port = await freePort();
    const server = await startRedis({
      args: [
        "--tls-port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        f("server.pem"),
        "--tls-key-file",
        f("server.key"),
        "--tls-ca-cert-file",
        f("ca.pem"),
        "--tls-auth-clients",
        "yes",
        "--user",
        "default",
        "off",
        "--user",
        ...ACL.split(" "),
      ],
    });
    servers.push(server);
    const s = clusterSettings(
      config({
        REPLAY_CACHE_URL: `rediss://fwknopd:gw-pass@127.0.0.1:${port}`,
        CLUSTER_TLS_CA_FILE: f("ca.pem"),
        CLUSTER_TLS_CERT_FILE: f("client.pem"),
        CLUSTER_TLS_KEY_FILE: f("client.key"),
      }),
    );
    assert.ok(s);
    await roundTrip(s);

    // Without the client certificate the server refuses the handshake: the claim fails closed.
    const noCert = { ...s, tls: { ...(s.tls.ca ? { ca: s.tls.ca } : {}) } };
    const log = recorder();
    const link = await openRedisLink({ settings: noCert, log, role: "test" });
    links.push(link);
    const r = await new RedisReplayStore(link, noCert, log).claim(entry());
    assert.equal(!r.ok && r.code, "FWK_ERR_CLUSTER_UNAVAILABLE");
  });

  test("redis-sentinel:// finds the master through a sentinel, and the new one after a failover", async () => {
    const masterPort = await freePort();
    const master = await startRedis({ tcp: { host: "127.0.0.1", port: masterPort } });
    servers.push(master);
    const replicaPort = await freePort();
    const replica = await startRedis({
      tcp: { host: "127.0.0.1", port: replicaPort },
      args: ["--replicaof", "127.0.0.1", String(masterPort)],
    });
    servers.push(replica);
    const cli = async (port: number, ...a: string[]) =>
      (await runChecked(["redis-cli", "-p", String(port), ...a])).stdout;
    const waitFor = async (what: string, cond: () => Promise<boolean>) => {
      const end = Date.now() + 60_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await waitFor("the replica to sync", async () =>
      /master_link_status:up/.test(await cli(replicaPort, "info", "replication")),
    );
    const sentinelPort = await freePort();
    const dir = tempDir("fwk-sentinel-");
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor fwk 127.0.0.1 ${masterPort} 1`,
        "sentinel down-after-milliseconds fwk 1000",
        "sentinel failover-timeout fwk 5000",
        "",
      ].join("\n"),
    );
    const sentinel = await startRedis({
      configFile: conf,
      args: ["--sentinel", "--port", String(sentinelPort)],
    });
    servers.push(sentinel);
    const s = clusterSettings(
      config({ REPLAY_CACHE_URL: `redis-sentinel://127.0.0.1:${sentinelPort}/fwk` }),
    );
    assert.ok(s);
    await roundTrip(s);

    // The sentinel learns the replica from the master's INFO (every 10 s), then the master dies.
    await waitFor("the sentinel to see the replica", async () =>
      (await cli(sentinelPort, "sentinel", "replicas", "fwk")).includes(String(replicaPort)),
    );
    const log = recorder();
    const link = await openRedisLink({ settings: s, log, role: "test" });
    links.push(link);
    const store = new RedisReplayStore(link, s, log);
    await master.kill();
    await waitFor("the sentinel to promote the replica", async () =>
      (await cli(sentinelPort, "sentinel", "get-master-addr-by-name", "fwk")).includes(
        String(replicaPort),
      ),
    );
    // The link asks the sentinel again when it reconnects; claims then work on the new master.
    await waitFor("a claim on the new master", async () => {
      return (await store.claim(entry())).ok;
    });
  });

  test("redis-cluster:// over three masters (fan-out keys share one slot)", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      servers.push(
        await startRedis({
          tcp: { host: "127.0.0.1", port },
          args: ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"],
        }),
      );
    }
    await runChecked(
      [
        "redis-cli",
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeoutMs: 60_000 },
    );
    const ok = async () =>
      /cluster_state:ok/.test(
        (await runChecked(["redis-cli", "-p", String(ports[0]), "cluster", "info"])).stdout,
      );
    const end = Date.now() + 30_000;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error("cluster never reached cluster_state:ok");
      await new Promise((r) => setTimeout(r, 200));
    }
    const s = clusterSettings(
      config({
        REPLAY_CACHE_URL: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
      }),
    );
    assert.ok(s);
    await roundTrip(s);
  });
});
