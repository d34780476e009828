import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkChainSpecShape, parseChainSpec } from "../../src/config/chain-spec.js";
import { formatPortSpec, parsePortList } from "../../src/config/port-list.js";

describe("parsePortList", () => {
  test("tcp/udp in any case, spaces after commas", () => {
    const r = parsePortList("tcp/22, UDP/53,Tcp/0,udp/65535");
    assert.ok(r.ok);
    assert.deepEqual(r.value, [
      { proto: "tcp", port: 22 },
      { proto: "udp", port: 53 },
      { proto: "tcp", port: 0 },
      { proto: "udp", port: 65535 },
    ]);
    assert.deepEqual(r.value.map(formatPortSpec), ["tcp/22", "udp/53", "tcp/0", "udp/65535"]);
  });

  test("a port that is not all digits is refused (2.6.10's strtol read tcp/abc as tcp/0)", () => {
    for (const text of ["tcp/abc", "tcp/22x", "udp/", "tcp/2 2", "tcp/0x16", "tcp/22,udp/5e3"]) {
      const r = parsePortList(text);
      assert.ok(!r.ok, text);
      assert.equal(r.code, "FWK_ERR_CONFIG_PORTS");
      assert.match(r.detail, /Invalid port '.*' in access request, must be in \[0,65535\]/, text);
    }
    const spaced = parsePortList(" tcp/22 , udp/53 ");
    assert.ok(spaced.ok);
    assert.deepEqual(spaced.value.map(formatPortSpec), ["tcp/22", "udp/53"]);
  });

  test("refusals", () => {
    const cases: [string, RegExp][] = [
      ["icmp/0", /Invalid protocol in access port entry: icmp\/0/],
      ["tcp/65536", /Invalid port 'tcp\/65536' in access request, must be in \[0,65535\]/],
      ["tcp/-1", /Invalid port/],
      ["22", /Parse error on access port entry: 22 /],
      ["tcp/22,", /Parse error on access port entry: {2}/],
      ["tcp /22", /Invalid protocol/],
    ];
    for (const [text, re] of cases) {
      const r = parsePortList(text);
      assert.ok(!r.ok, text);
      assert.equal(r.code, "FWK_ERR_CONFIG_PORTS");
      assert.match(r.detail, re, text);
    }
  });
});

describe("parseChainSpec", () => {
  test("the six fields, spaces removed", () => {
    const r = parseChainSpec("ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1");
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      target: "ACCEPT",
      table: "filter",
      fromChain: "INPUT",
      jumpPosition: 1,
      toChain: "FWKNOP_INPUT",
      rulePosition: 1,
    });
    const tight = parseChainSpec("DNAT,nat,PRE ROUTING,0,FWKNOP_PREROUTING,65536");
    assert.ok(tight.ok);
    assert.equal(tight.value.fromChain, "PREROUTING");
    assert.equal(tight.value.rulePosition, 65536);
  });

  test("refusals", () => {
    const cases: [string, RegExp][] = [
      ["ACCEPT, filter, INPUT, 1, FWKNOP-INPUT, 1", /character '-' is not allowed/],
      ["ACCEPT, filter, INPUT, 1, FWKNOP_INPUT", /5 fields, need 6/],
      ["ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1, 2", /7 fields/],
      ["ACCEPT, filter, INPUT, 65537, FWKNOP_INPUT, 1", /invalid jump rule position '65537'/],
      ["ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 99999", /invalid to_chain rule position '99999'/],
      ["ACCEPT, , INPUT, 1, FWKNOP_INPUT, 1", /Table is empty/],
    ];
    for (const [text, re] of cases) {
      const r = parseChainSpec(text);
      assert.ok(!r.ok, text);
      assert.equal(r.code, "FWK_ERR_CONFIG_CHAIN_SPEC");
      assert.match(r.detail, re, text);
    }
  });

  test("the shape check alone accepts what upstream accepts for unused chains", () => {
    assert.ok(checkChainSpecShape("ACCEPT, , INPUT, 99999, FWKNOP_INPUT, x").ok);
    assert.ok(!checkChainSpecShape("ACCEPT, filter, INPUT, 1, FWKNOP-INPUT, 1").ok);
  });
});
