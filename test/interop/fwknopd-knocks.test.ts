/**
 * The real fwknop 2.6.10 client knocks on our fwknopd, which opens a real iptables firewall in a
 * network namespace: the hidden port opens, closes after the timeout, and every kind of bad knock
 * is refused with its reason.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
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
  addInsideHost,
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  sendUdp,
  startHiddenService,
} from "../helpers/netns.js";

const PORT = 2222;

function requirePeers(): void {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  if (!existsSync(C_FWKNOP))
    assert.fail(`the C client ${C_FWKNOP} is missing: apt-get install fwknop-client`);
}

function cKnock(pair: NetnsPair, keys: Keys, extra: string[] = []): Promise<string> {
  return knock(pair, keys, { port: PORT, extra });
}

describe("C fwknop 2.6.10 client → our fwknopd (iptables, namespaces)", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  const good = randomKeys();
  const restricted = randomKeys();
  const userBound = randomKeys();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    requirePeers();
    pair = await createNetnsPair("knock");
    cleanups.push(() => pair.cleanup());
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    await hideServices(pair.server);
    const access = [
      accessStanza(good, { FW_ACCESS_TIMEOUT: "3" }),
      accessStanza(restricted, { RESTRICT_PORTS: `tcp/${PORT}` }),
      accessStanza(userBound, { REQUIRE_USERNAME: "somebody-else" }),
    ].join("");
    daemon = await startDaemon(writeConfigDir({}, access), { netns: pair.server, args: ["-v"] });
    cleanups.push(() => daemon.stop());
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test("a valid knock opens the hidden port, which closes again after FW_ACCESS_TIMEOUT", async () => {
    assert.equal(
      await canConnect(pair.client, pair.serverIp, PORT, 400),
      false,
      "port must start closed",
    );
    await cKnock(pair, good);
    await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 198\.18\.0\.2/);
    assert.equal(
      await canConnect(pair.client, pair.serverIp, PORT),
      true,
      "port must open after the knock",
    );
    await daemon.waitForLog(/Removed rule .*FWKNOP_INPUT/, 60_000);
    assert.equal(
      await canConnect(pair.client, pair.serverIp, PORT, 400),
      false,
      "port must close after the timeout",
    );
  });

  test("with -v the granted packet's field dump is logged; a replayed packet is refused", async () => {
    const since = daemon.output().length;
    const wire = await cKnock(pair, good);
    await daemon.waitForLog(/Added access rule/, 60_000, since);
    assert.match(daemon.output().slice(since), /SPA Field Values:/);
    assert.ok(
      daemon.output().slice(since).includes(`Final SPA Data: ${wire}`),
      "the dump shows the wire string",
    );
    // fwknopd 2.6.10 shows the packet's HMAC (the wire's 43-character SHA-256 tail), not <NULL>.
    assert.ok(
      daemon
        .output()
        .slice(since)
        .includes(`           HMAC: ${wire.slice(-43)}\n`),
      "the dump shows the packet's HMAC",
    );
    await sendUdp(pair.client, pair.serverIp, 62201, wire);
    await daemon.waitForLog(/Replay detected from source IP: 198\.18\.0\.2/, 60_000, since);
  });

  const refusals: [string, () => Promise<unknown>, RegExp][] = [
    [
      "wrong encryption key",
      () => cKnock(pair, { key: randomKeys().key, hmac: good.hmac }),
      /\[FKO_ERROR_DECRYPTION_FAILURE\]/,
    ],
    [
      "bad HMAC",
      () => cKnock(pair, { key: good.key, hmac: randomKeys().hmac }),
      /\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/,
    ],
    [
      "stale timestamp",
      () => cKnock(pair, good, ["--time-offset-minus", "5m"]),
      /time difference is too great.*\[SPA_MSG_TOO_OLD\]/,
    ],
    [
      "future timestamp",
      () => cKnock(pair, good, ["--time-offset-plus", "5m"]),
      /time difference is too great.*\[SPA_MSG_TOO_OLD\]/,
    ],
    ["RESTRICT_PORTS", () => cKnock(pair, restricted), /\[FWK_ERR_SPA_PORTS_DENIED\]/],
    ["REQUIRE_USERNAME", () => cKnock(pair, userBound), /\[FWK_ERR_SPA_USERNAME_MISMATCH\]/],
  ];
  for (const [name, knock, reason] of refusals) {
    test(`refused with its reason: ${name}`, async () => {
      const before = daemon.output().length;
      await knock();
      await daemon.waitForLog(reason, 60_000, before);
      assert.doesNotMatch(daemon.output().slice(before), /Added access rule/);
    });
  }
});

describe("our fwknopd refuses stanzas that cannot apply", () => {
  test("a source that no stanza lists", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("src");
    t.after(() => pair.cleanup());
    const keys = randomKeys();
    const daemon = await startDaemon(writeConfigDir({}, accessStanza(keys, {}, "192.0.2.0/24")), {
      netns: pair.server,
    });
    t.after(() => daemon.stop());
    await cKnock(pair, keys);
    await daemon.waitForLog(
      /No access data found for source IP: 198\.18\.0\.2.*\[FWK_ERR_SPA_NO_SOURCE_MATCH\]/,
    );
  });

  test("an expired stanza (ACCESS_EXPIRE_EPOCH in the past)", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("exp");
    t.after(() => pair.cleanup());
    const keys = randomKeys();
    const cfg = writeConfigDir({}, accessStanza(keys, { ACCESS_EXPIRE_EPOCH: "1000000000" }));
    const daemon = await startDaemon(cfg, { netns: pair.server });
    t.after(() => daemon.stop());
    await cKnock(pair, keys);
    await daemon.waitForLog(/\[FWK_ERR_SPA_STANZA_EXPIRED\]/);
    assert.doesNotMatch(daemon.output(), /Added access rule/);
  });
});

describe("replay protection survives a restart", () => {
  test("a packet accepted before the restart is refused after it", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("rst");
    t.after(() => pair.cleanup());
    const keys = randomKeys();
    const cfg = writeConfigDir({}, accessStanza(keys));
    const first = await startDaemon(cfg, { netns: pair.server });
    const wire = await cKnock(pair, keys);
    await first.waitForLog(/Added access rule/);
    assert.equal(await first.stop(), 0);
    const second = await startDaemon(cfg, { netns: pair.server });
    t.after(() => second.stop());
    await sendUdp(pair.client, pair.serverIp, 62201, wire);
    await second.waitForLog(/Replay detected from source IP: 198\.18\.0\.2/);
  });
});

describe("NAT through our fwknopd", () => {
  test("local NAT: a knock for an outside port is DNATed to the hidden service", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("lnat");
    t.after(() => pair.cleanup());
    const svc = await startHiddenService(pair.server, PORT);
    t.after(() => svc.kill());
    await hideServices(pair.server);
    const keys = randomKeys();
    const daemon = await startDaemon(
      writeConfigDir({ ENABLE_IPT_LOCAL_NAT: "Y" }, accessStanza(keys)),
      {
        netns: pair.server,
      },
    );
    t.after(() => daemon.stop());
    const outside = 40022;
    assert.equal(await canConnect(pair.client, pair.serverIp, outside, 400), false);
    // The C client sends access tcp/40022 with NAT target <server>,2222 (message type 5).
    await knock(pair, keys, { port: PORT, extra: ["--nat-local", "--nat-port", String(outside)] });
    await daemon.waitForLog(/Added DNAT rule to FWKNOP_PREROUTING/);
    assert.equal(
      await canConnect(pair.client, pair.serverIp, outside),
      true,
      "outside port must reach the service",
    );
    assert.equal(
      await canConnect(pair.client, pair.serverIp, PORT, 400),
      true,
      "local NAT opens the service port too",
    );
  });
});

describe("NAT forwarding through our fwknopd", () => {
  test("-N: the knock DNATs an outside port to a host behind the server and lets it through", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("fnat");
    t.after(() => pair.cleanup());
    const inside = await addInsideHost(pair);
    t.after(() => inside.cleanup());
    const svc = await startHiddenService(inside.ns, PORT);
    t.after(() => svc.kill());
    await hideServices(pair.server);
    const keys = randomKeys();
    const daemon = await startDaemon(
      writeConfigDir({ ENABLE_IPT_FORWARDING: "Y" }, accessStanza(keys)),
      {
        netns: pair.server,
      },
    );
    t.after(() => daemon.stop());
    const outside = 40023;
    assert.equal(await canConnect(pair.client, pair.serverIp, outside, 400), false);
    // Message tcp/40023 with NAT target 198.18.1.2,2222 (type 2): DNAT + FORWARD rules.
    await knock(pair, keys, {
      port: PORT,
      extra: ["-N", `${inside.ip}:${PORT}`, "--nat-port", String(outside)],
    });
    await daemon.waitForLog(/Added FORWARD rule to FWKNOP_FORWARD/);
    await daemon.waitForLog(/Added DNAT rule to FWKNOP_PREROUTING/);
    assert.equal(
      await canConnect(pair.client, pair.serverIp, outside),
      true,
      "the inside service must answer",
    );
  });
});

describe("commands through our fwknopd", () => {
  test("an SPA command message runs as CMD_EXEC_USER; command cycles open and close", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("cmd");
    t.after(() => pair.cleanup());
    const dir = mkdtempSync(join(tmpdir(), "fwk-cmd-"));
    chmodSync(dir, 0o777);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cmdKeys = randomKeys();
    const cycleKeys = randomKeys();
    const access =
      accessStanza(cmdKeys, { ENABLE_CMD_EXEC: "Y", CMD_EXEC_USER: "nobody" }) +
      accessStanza(cycleKeys, {
        CMD_CYCLE_OPEN: `touch ${dir}/open-$IP-$PORT`,
        CMD_CYCLE_CLOSE: `touch ${dir}/close-$IP`,
        CMD_CYCLE_TIMER: "1",
      });
    const daemon = await startDaemon(writeConfigDir({}, access), { netns: pair.server });
    t.after(() => daemon.stop());

    await knock(pair, cmdKeys, { port: PORT, extra: ["-C", `touch ${dir}/ran`] });
    await daemon.waitForLog(/Command exited with status 0/);
    assert.equal(statSync(join(dir, "ran")).uid, 65534, "the command ran as nobody");

    await knock(pair, cycleKeys, { port: PORT });
    await daemon.waitForLog(/Running command cycle command 'touch .*close-198\.18\.0\.2'/, 60_000);
    assert.ok(existsSync(join(dir, `open-198.18.0.2-${PORT}`)), "open command ran with $IP/$PORT");
    assert.doesNotMatch(daemon.output(), /Added access rule/, "command stanzas open no rules");
  });
});
