import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DecodedSpa } from "../../src/protocol/spa.js";
import { decidePolicy, type PolicySettings } from "../../src/server/policy.js";
import { makeStanza } from "../helpers/stanza.js";

const NOW = 1_700_000_000;
const settings: PolicySettings = {
  packetAging: true,
  maxPacketAge: 120,
  natForwarding: false,
  localNat: false,
  testMode: false,
};
const packet = { srcIp: "198.18.0.2", dstIp: "0.0.0.0" };

function msg(over: Partial<DecodedSpa> = {}): DecodedSpa {
  return {
    randomValue: "1234567890123456",
    username: "alice",
    timestamp: NOW,
    version: "3.0.0",
    messageType: 1,
    message: "198.18.0.2,tcp/22",
    digestType: "sha256",
    digest: "x",
    encoded: "x",
    ...over,
  };
}

describe("decidePolicy", () => {
  test("grants access for the allow-IP with the stanza's FW_ACCESS_TIMEOUT", () => {
    const r = decidePolicy(msg(), makeStanza(), packet, settings, NOW);
    assert.ok(r.ok);
    assert.equal(r.value.kind, "access");
    assert.equal(r.value.clientIp, "198.18.0.2");
    assert.equal(r.value.timeout, 30);
    assert.deepEqual(r.value.kind === "access" && r.value.ports, [{ proto: "tcp", port: 22 }]);
  });

  test("client timeout is capped by MAX_FW_TIMEOUT", () => {
    const r = decidePolicy(
      msg({ messageType: 3, clientTimeout: 9999 }),
      makeStanza({ maxFwTimeout: 600 }),
      packet,
      settings,
      NOW,
    );
    assert.ok(r.ok);
    assert.equal(r.value.timeout, 600);
  });

  test("stale and future timestamps are refused both ways", () => {
    for (const ts of [NOW - 121, NOW + 121]) {
      const r = decidePolicy(msg({ timestamp: ts }), makeStanza(), packet, settings, NOW);
      assert.ok(!r.ok);
      assert.equal(r.code, "SPA_MSG_TOO_OLD");
      assert.match(r.detail, /time difference is too great/);
    }
    assert.ok(decidePolicy(msg({ timestamp: NOW - 120 }), makeStanza(), packet, settings, NOW).ok);
    assert.ok(
      decidePolicy(
        msg({ timestamp: NOW - 5000 }),
        makeStanza(),
        packet,
        { ...settings, packetAging: false },
        NOW,
      ).ok,
    );
  });

  test("0.0.0.0 means the packet source, unless REQUIRE_SOURCE_ADDRESS", () => {
    const m = msg({ message: "0.0.0.0,tcp/22" });
    const r = decidePolicy(m, makeStanza(), packet, settings, NOW);
    assert.ok(r.ok);
    assert.equal(r.value.clientIp, "198.18.0.2");
    const x = decidePolicy(
      m,
      makeStanza(),
      { ...packet, forwardedFor: "192.0.2.9" },
      settings,
      NOW,
    );
    assert.ok(x.ok);
    assert.equal(x.value.clientIp, "192.0.2.9");
    const denied = decidePolicy(
      m,
      makeStanza({ requireSourceAddress: true }),
      packet,
      settings,
      NOW,
    );
    assert.ok(!denied.ok);
    assert.equal(denied.code, "FWK_ERR_SPA_SOURCE_REQUIRED");
  });

  test("an invalid allow-IP stops evaluation of further stanzas", () => {
    const r = decidePolicy(
      msg({ message: "1.2.3.256,tcp/22" }),
      makeStanza(),
      packet,
      settings,
      NOW,
    );
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_INVALID_ALLOW_IP");
    assert.equal(r.final, true);
  });

  test("REQUIRE_USERNAME is an exact, case-sensitive match", () => {
    assert.ok(
      decidePolicy(msg(), makeStanza({ requireUsername: "alice" }), packet, settings, NOW).ok,
    );
    const r = decidePolicy(msg(), makeStanza({ requireUsername: "Alice" }), packet, settings, NOW);
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_USERNAME_MISMATCH");
  });

  test("RESTRICT_PORTS denies any listed port; OPEN_PORTS must list every port", () => {
    const two = msg({ message: "198.18.0.2,tcp/22,udp/53" });
    const restricted = decidePolicy(
      two,
      makeStanza({ restrictPorts: [{ proto: "udp", port: 53 }] }),
      packet,
      settings,
      NOW,
    );
    assert.ok(!restricted.ok);
    assert.equal(restricted.code, "FWK_ERR_SPA_PORTS_DENIED");
    const partly = decidePolicy(
      two,
      makeStanza({ openPorts: [{ proto: "tcp", port: 22 }] }),
      packet,
      settings,
      NOW,
    );
    assert.ok(!partly.ok);
    assert.equal(partly.code, "FWK_ERR_SPA_PORTS_DENIED");
    const open = [
      { proto: "tcp" as const, port: 22 },
      { proto: "udp" as const, port: 53 },
    ];
    assert.ok(decidePolicy(two, makeStanza({ openPorts: open }), packet, settings, NOW).ok);
  });

  test("NAT types need forwarding / local NAT enabled", () => {
    const nat = msg({ messageType: 2, natAccess: "192.0.2.5,22", message: "198.18.0.2,tcp/55000" });
    const off = decidePolicy(nat, makeStanza(), packet, settings, NOW);
    assert.ok(!off.ok);
    assert.equal(off.code, "FWK_ERR_SPA_NAT_DISABLED");
    const on = decidePolicy(nat, makeStanza(), packet, { ...settings, natForwarding: true }, NOW);
    assert.ok(on.ok && on.value.kind === "access");
    assert.deepEqual(on.value.kind === "access" && on.value.nat, { host: "192.0.2.5", port: 22 });
    const local = decidePolicy(
      msg({ messageType: 5, natAccess: "198.18.0.1,22" }),
      makeStanza(),
      packet,
      settings,
      NOW,
    );
    assert.ok(!local.ok);
  });

  test("command messages need ENABLE_CMD_EXEC and are never run in --test mode", () => {
    const cmd = msg({ messageType: 0, message: "198.18.0.2,touch /tmp/x" });
    const no = decidePolicy(cmd, makeStanza(), packet, settings, NOW);
    assert.ok(!no.ok);
    assert.equal(no.code, "FWK_ERR_SPA_CMD_NOT_ALLOWED");
    const yes = decidePolicy(cmd, makeStanza({ enableCmdExec: true }), packet, settings, NOW);
    assert.ok(yes.ok && yes.value.kind === "command");
    assert.equal(yes.value.kind === "command" && yes.value.command, "touch /tmp/x");
    const test = decidePolicy(
      cmd,
      makeStanza({ enableCmdExec: true }),
      packet,
      { ...settings, testMode: true },
      NOW,
    );
    assert.ok(!test.ok);
    assert.equal(test.code, "FWK_ERR_SPA_TEST_MODE");
  });

  test("--test mode refuses to open the firewall", () => {
    const r = decidePolicy(msg(), makeStanza(), packet, { ...settings, testMode: true }, NOW);
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_TEST_MODE");
  });

  test("FORCE_NAT overrides the message's NAT target", () => {
    const r = decidePolicy(
      msg(),
      makeStanza({ forceNat: { ip: "192.0.2.7", port: 2222 } }),
      packet,
      settings,
      NOW,
    );
    assert.ok(r.ok && r.value.kind === "access");
    assert.deepEqual(r.value.kind === "access" && r.value.nat, { host: "192.0.2.7", port: 2222 });
  });
});

describe("decidePolicy: knocks that arrive over IPv6", () => {
  const v6 = { srcIp: "2001:db8::2", dstIp: "::" };

  test("0.0.0.0 grants access for the packet's IPv6 source", () => {
    const r = decidePolicy(msg({ message: "0.0.0.0,tcp/22" }), makeStanza(), v6, settings, NOW);
    assert.ok(r.ok && r.value.kind === "access");
    assert.equal(r.value.clientIp, "2001:db8::2");
  });

  test("REQUIRE_SOURCE_ADDRESS still refuses 0.0.0.0", () => {
    const r = decidePolicy(
      msg({ message: "0.0.0.0,tcp/22" }),
      makeStanza({ requireSourceAddress: true }),
      v6,
      settings,
      NOW,
    );
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_SOURCE_REQUIRED");
  });

  test("an IPv4 allow-IP keeps its upstream meaning: access for that IPv4 address", () => {
    const r = decidePolicy(msg({ message: "198.18.0.9,tcp/22" }), makeStanza(), v6, settings, NOW);
    assert.ok(r.ok);
    assert.equal(r.value.clientIp, "198.18.0.9");
  });

  test("NAT for an IPv6 client is refused (targets are IPv4); for an IPv4 allow-IP it is not", () => {
    const nat = { ...settings, natForwarding: true };
    const wire = { messageType: 2, natAccess: "192.0.2.5,22" } as const;
    const r = decidePolicy(
      msg({ ...wire, message: "0.0.0.0,tcp/55000" }),
      makeStanza(),
      v6,
      nat,
      NOW,
    );
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_NAT_DISABLED");
    assert.match(r.detail, /2001:db8::2.*IPv4-only/);
    const forced = decidePolicy(
      msg({ message: "0.0.0.0,tcp/22" }),
      makeStanza({ forceNat: { ip: "192.0.2.7", port: 2222 } }),
      v6,
      nat,
      NOW,
    );
    assert.equal(forced.ok, false);
    const v4 = decidePolicy(
      msg({ ...wire, message: "198.18.0.2,tcp/55000" }),
      makeStanza(),
      v6,
      nat,
      NOW,
    );
    assert.ok(v4.ok);
  });
});

test("an IPv6 allow-IP (our extension) opens access for that address", () => {
  const r = decidePolicy(
    msg({ message: "2001:db8::7,tcp/22" }),
    makeStanza(),
    packet,
    settings,
    NOW,
  );
  assert.ok(r.ok);
  assert.equal(r.value.clientIp, "2001:db8::7");
  const bad = decidePolicy(
    msg({ message: "2001:db8::7::1,tcp/22" }),
    makeStanza(),
    packet,
    settings,
    NOW,
  );
  assert.ok(!bad.ok);
  assert.equal(bad.code, "FWK_ERR_SPA_INVALID_ALLOW_IP");
});

test("a command cycle is bound by OPEN_PORTS and RESTRICT_PORTS like a rule (issue 9)", () => {
  const cycle = (over: Parameters<typeof makeStanza>[0]) =>
    makeStanza({ cmdCycleOpen: "/bin/true $IP", cmdCycleClose: "NONE", ...over });
  const denied = decidePolicy(
    msg({ message: "198.18.0.2,tcp/3306" }),
    cycle({ openPorts: [{ proto: "tcp", port: 22 }] }),
    packet,
    settings,
    NOW,
  );
  assert.equal(denied.ok, false);
  assert.equal(!denied.ok && denied.code, "FWK_ERR_SPA_PORTS_DENIED");
  const restricted = decidePolicy(
    msg({ message: "198.18.0.2,tcp/22" }),
    cycle({ restrictPorts: [{ proto: "tcp", port: 22 }] }),
    packet,
    settings,
    NOW,
  );
  assert.equal(!restricted.ok && restricted.code, "FWK_ERR_SPA_PORTS_DENIED");
  const allowed = decidePolicy(
    msg({ message: "198.18.0.2,tcp/22" }),
    cycle({ openPorts: [{ proto: "tcp", port: 22 }] }),
    packet,
    settings,
    NOW,
  );
  assert.ok(allowed.ok && allowed.value.kind === "cmd-cycle");
});

test("-t test mode never yields a command cycle to run (issue 9)", () => {
  const r = decidePolicy(
    msg(),
    makeStanza({ cmdCycleOpen: "/bin/true $IP", cmdCycleClose: "NONE" }),
    packet,
    { ...settings, testMode: true },
    NOW,
  );
  assert.equal(!r.ok && r.code, "FWK_ERR_SPA_TEST_MODE");
});
