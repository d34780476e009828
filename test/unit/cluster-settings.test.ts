import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { backoffMs } from "../../src/cluster/redis-link.js";
import { clusterSettings, parseStoreUrl, redact } from "../../src/cluster/settings.js";
import type { ServerConfig } from "../../src/config/server-config.js";
import { FwknopError } from "../../src/errors.js";

/** Just enough of a ServerConfig: values as if read from fwknopd.conf line N. */
function config(values: Record<string, string>): ServerConfig {
  const all: Record<string, string> = {
    CLUSTER_GRANTS: "N",
    CLUSTER_NAME: "fwknop",
    CLUSTER_FAIL_MODE: "closed",
    CLUSTER_STREAM_MAXLEN: "10000",
    ENABLE_SPA_PACKET_AGING: "Y",
    MAX_SPA_PACKET_AGE: "120",
    ...values,
  };
  const names = Object.keys(all);
  return {
    firewallType: "iptables",
    get: ((n: string) => all[n]) as ServerConfig["get"],
    bool: (n) => /^y/i.test(all[n] ?? ""),
    int: (n) => Number.parseInt(all[n] ?? "0", 10) || 0,
    where: (n) => (n in values ? `fwknopd.conf:${names.indexOf(n) + 1}` : "default"),
    entries: () => names.map((n) => [n, all[n]]),
  };
}

const KEY = randomBytes(32).toString("base64");

describe("REPLAY_CACHE_URL forms", () => {
  test("single host, TLS, database, ACL user", () => {
    assert.deepEqual(parseStoreUrl("redis://gw:s%40cret@10.0.0.5:6380/2"), {
      kind: "single",
      node: { host: "10.0.0.5", port: 6380 },
      tls: false,
      db: 2,
      username: "gw",
      password: "s@cret",
    });
    assert.deepEqual(parseStoreUrl("rediss://:pw@redis.example"), {
      kind: "single",
      node: { host: "redis.example", port: 6379 },
      tls: true,
      db: 0,
      password: "pw",
    });
    assert.deepEqual(parseStoreUrl("redis://[2001:db8::5]:7000"), {
      kind: "single",
      node: { host: "2001:db8::5", port: 7000 },
      tls: false,
      db: 0,
    });
  });

  test("unix socket, sentinel, cluster", () => {
    assert.deepEqual(parseStoreUrl("unix:///run/redis/redis.sock?db=3"), {
      kind: "unix",
      path: "/run/redis/redis.sock",
      db: 3,
    });
    assert.deepEqual(parseStoreUrl("redis-sentinel://s1,s2:26380/mymaster/1"), {
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      master: "mymaster",
      tls: false,
      db: 1,
    });
    assert.deepEqual(parseStoreUrl("rediss-cluster://n1:7000,n2:7001"), {
      kind: "cluster",
      nodes: [
        { host: "n1", port: 7000 },
        { host: "n2", port: 7001 },
      ],
      tls: true,
    });
  });

  test("malformed URLs say why", () => {
    for (const [url, why] of [
      ["http://x", /scheme 'http'/],
      ["redis://a,b", /names one host/],
      ["redis://host:99999", /not host\[:port\]/],
      ["redis://host/abc", /database 'abc'/],
      ["unix://relative", /absolute socket path/],
      ["redis-sentinel://s1", /names the master/],
      ["redis-cluster://n1/0", /no databases/],
      ["redis://u:%zz@h", /percent-encoding/],
    ] as const) {
      const r = parseStoreUrl(url);
      assert.equal(typeof r, "string", url);
      assert.match(r as string, why, url);
    }
  });

  test("passwords never reach the log text", () => {
    assert.equal(redact("redis://gw:secret@h:1/0"), "redis://gw:***@h:1/0");
    assert.equal(redact("redis://h:1"), "redis://h:1");
  });
});

describe("cluster settings", () => {
  test("no REPLAY_CACHE_URL: standalone", () => {
    assert.equal(clusterSettings(config({})), undefined);
  });

  test("TTL covers twice the packet age plus the clock-skew allowance; none without aging", () => {
    const s = clusterSettings(config({ REPLAY_CACHE_URL: "redis://h", MAX_SPA_PACKET_AGE: "30" }));
    assert.equal(s?.replayTtlMs, (60 + 60) * 1000);
    assert.equal(s?.failMode, "closed");
    assert.equal(s?.grants, false);
    const noAging = clusterSettings(
      config({ REPLAY_CACHE_URL: "redis://h", ENABLE_SPA_PACKET_AGING: "N" }),
    );
    assert.equal(noAging?.replayTtlMs, undefined);
  });

  test("bad values are one file:line error", () => {
    for (const [values, re] of [
      [{ CLUSTER_GRANTS: "Y" }, /CLUSTER_GRANTS needs REPLAY_CACHE_URL/],
      [{ REPLAY_CACHE_URL: "redis://h", CLUSTER_GRANTS: "Y" }, /needs CLUSTER_KEY_BASE64/],
      [{ REPLAY_CACHE_URL: "redis://h", CLUSTER_KEY_BASE64: "c2hvcnQ=" }, /at least 32 bytes/],
      [
        { REPLAY_CACHE_URL: "redis://h", CLUSTER_FAIL_MODE: "open" },
        /'open' is not 'closed' or 'local'/,
      ],
      [{ REPLAY_CACHE_URL: "redis://h", CLUSTER_NAME: "a b" }, /CLUSTER_NAME 'a b'/],
      [
        { REPLAY_CACHE_URL: "redis://h", CLUSTER_TLS_CA_FILE: "/nonexistent/ca.pem" },
        /cannot be read/,
      ],
      [{ REPLAY_CACHE_URL: "ftp://h" }, /REPLAY_CACHE_URL 'ftp:\/\/h'/],
    ] as const) {
      assert.throws(
        () => clusterSettings(config(values)),
        (e: unknown) =>
          e instanceof FwknopError &&
          e.code === "FWK_ERR_CONFIG_VALUE" &&
          /^fwknopd\.conf:\d+: /.test(e.message) &&
          re.test(e.message),
        JSON.stringify(values),
      );
    }
  });

  test("a full grant fan-out setting", () => {
    const s = clusterSettings(
      config({
        REPLAY_CACHE_URL: "redis://gw:pw@h/1",
        CLUSTER_GRANTS: "Y",
        CLUSTER_KEY_BASE64: KEY,
        CLUSTER_NAME: "edge-1",
        CLUSTER_FAIL_MODE: "LOCAL",
      }),
    );
    assert.equal(s?.grants, true);
    assert.equal(s?.key?.toString("base64"), KEY);
    assert.equal(s?.name, "edge-1");
    assert.equal(s?.failMode, "local");
    assert.equal(s?.display, "redis://gw:***@h/1");
  });
});

test("reconnect backoff doubles from 100 ms and stays at 5 s", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 50].map(backoffMs),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
});
