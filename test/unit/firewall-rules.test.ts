import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Rule } from "../../src/firewall/backend.js";
import { fitsSet, parseSetList } from "../../src/firewall/iptables-ipset.js";
import { parseRuleLine } from "../../src/firewall/rule-line.js";
import { type GrantRequest, ruleArgs, ruleKey, rulesForGrant } from "../../src/firewall/rules.js";
import {
  activeChainKinds,
  DEFAULT_CHAIN_SPECS,
  defaultFirewallSettings,
  type FirewallSettings,
} from "../../src/firewall/settings.js";

const NOW = 1_795_771_293;
const EXP = NOW + 30;

function settings(over: Partial<FirewallSettings> = {}, kinds = ["input"] as string[]) {
  const s = defaultFirewallSettings();
  for (const k of kinds) {
    const kind = k as keyof typeof DEFAULT_CHAIN_SPECS;
    s.chains[kind] = { ...DEFAULT_CHAIN_SPECS[kind] };
  }
  return { ...s, ...over };
}

function request(over: Partial<GrantRequest> = {}): GrantRequest {
  return {
    clientIp: "198.18.0.2",
    packetDstIp: "198.18.0.1",
    ports: [{ proto: "tcp", port: 22 }],
    messageType: 1,
    timeout: 30,
    stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
    ...over,
  };
}

/** The text upstream logs after `create_rule() Rule: '` (spec §11.1.2 templates). */
function template(rule: Rule, s: FirewallSettings): string {
  const spec = s.chains[rule.chain];
  assert.ok(spec, `chain ${rule.chain} active`);
  return ["-t", spec.table, ...ruleArgs(rule, spec)].join(" ");
}

describe("rule templates (§11.1.2), checked against fwknopd 2.6.10's own log lines", () => {
  test("INPUT and OUTPUT access rules use protocol numbers and the _exp_ comment", () => {
    const s = settings({}, ["input", "output"]);
    const rules = rulesForGrant(
      request({
        ports: [
          { proto: "tcp", port: 22 },
          { proto: "udp", port: 53 },
        ],
      }),
      s,
      NOW,
    );
    assert.deepEqual(
      rules.map((r) => `${s.chains[r.chain]?.toChain}: ${template(r, s)}`),
      [
        // Verbatim from fwknopd 2.6.10 (ENABLE_IPT_OUTPUT Y, knock for tcp/22,udp/53).
        `FWKNOP_INPUT: -t filter -p 6 -s 198.18.0.2 -d 0.0.0.0/0 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
        `FWKNOP_OUTPUT: -t filter -p 6 -d 198.18.0.2 -s 0.0.0.0/0 --sport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
        `FWKNOP_INPUT: -t filter -p 17 -s 198.18.0.2 -d 0.0.0.0/0 --dport 53 -m comment --comment _exp_${EXP} -j ACCEPT`,
        `FWKNOP_OUTPUT: -t filter -p 17 -d 198.18.0.2 -s 0.0.0.0/0 --sport 53 -m comment --comment _exp_${EXP} -j ACCEPT`,
      ],
    );
    assert.deepEqual(rules[0]?.note, {
      kind: "access",
      clientIp: "198.18.0.2",
      dst: "0.0.0.0/0",
      spec: "tcp/22,udp/53",
    });
    assert.equal(rules[1]?.note?.kind, "OUTPUT");
  });

  test("ENABLE_DESTINATION_RULE puts the packet destination in -d (and -s of OUTPUT)", () => {
    const s = settings({ destinationRule: true }, ["input", "output"]);
    const [input, output] = rulesForGrant(request(), s, NOW);
    assert.ok(input && output);
    assert.match(template(input, s), /-s 198\.18\.0\.2 -d 198\.18\.0\.1 --dport 22/);
    assert.match(template(output, s), /-d 198\.18\.0\.2 -s 198\.18\.0\.1 --sport 22/);
  });

  test("NAT access (type 2): FORWARD to the NAT port, DNAT from the access port", () => {
    const s = settings({}, ["input", "forward", "dnat"]);
    const rules = rulesForGrant(
      request({
        messageType: 2,
        ports: [{ proto: "tcp", port: 55000 }],
        nat: { ip: "10.0.0.5", port: 22 },
      }),
      s,
      NOW,
    );
    assert.deepEqual(
      rules.map((r) => template(r, s)),
      [
        `-t filter -p 6 -s 198.18.0.2 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
        `-t nat -p 6 -s 198.18.0.2 -d 0.0.0.0/0 --dport 55000 -m comment --comment _exp_${EXP} -j DNAT --to-destination 10.0.0.5:22`,
      ],
    );
    assert.deepEqual(
      rules.map((r) => r.note?.kind),
      ["FORWARD", "DNAT"],
    );
  });

  test("FORWARD_ALL: no protocol or port, DNAT to the bare NAT address", () => {
    const s = settings({}, ["input", "forward", "dnat"]);
    const stanza = { forceMasquerade: false, disableDnat: false, forwardAll: true };
    const rules = rulesForGrant(
      request({ messageType: 2, nat: { ip: "10.0.0.5", port: 22 }, stanza }),
      s,
      NOW,
    );
    assert.deepEqual(
      rules.map((r) => template(r, s)),
      [
        `-t filter -s 198.18.0.2 -m comment --comment _exp_${EXP} -j ACCEPT`,
        `-t nat -s 198.18.0.2 -d 0.0.0.0/0 -m comment --comment _exp_${EXP} -j DNAT --to-destination 10.0.0.5`,
      ],
    );
    assert.deepEqual(
      rules.map((r) => r.note?.kind),
      ["FORWARD ALL", "DNAT ALL"],
    );
  });

  test("local NAT (type 5): INPUT rule for the NAT port plus DNAT, no FORWARD", () => {
    const s = settings({}, ["input", "forward", "dnat"]);
    const rules = rulesForGrant(
      request({
        messageType: 5,
        ports: [{ proto: "tcp", port: 55000 }],
        nat: { ip: "198.18.0.1", port: 22 },
      }),
      s,
      NOW,
    );
    assert.deepEqual(
      rules.map((r) => [r.chain, r.note?.kind, r.dport]),
      [
        ["input", "local NAT", 22],
        ["dnat", "DNAT", 55000],
      ],
    );
  });

  test("DISABLE_DNAT leaves out the DNAT rule; inactive chains produce nothing", () => {
    const s = settings({}, ["input", "forward"]);
    const stanza = { forceMasquerade: false, disableDnat: true, forwardAll: false };
    const rules = rulesForGrant(
      request({ messageType: 2, nat: { ip: "10.0.0.5", port: 22 }, stanza }),
      s,
      NOW,
    );
    assert.deepEqual(
      rules.map((r) => r.chain),
      ["forward"],
    );
  });

  describe("SNAT family (§11.1.3)", () => {
    const kinds = ["input", "forward", "dnat", "snat", "masquerade"];
    const nat = { ip: "10.0.0.5", port: 22 };
    const last = (s: FirewallSettings, stanza: Partial<GrantRequest["stanza"]>) => {
      const rules = rulesForGrant(
        request({
          messageType: 2,
          ports: [{ proto: "tcp", port: 55000 }],
          nat,
          stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false, ...stanza },
        }),
        s,
        NOW,
      );
      const r = rules.at(-1);
      assert.ok(r);
      return template(r, s);
    };

    test("specific: MASQUERADE --to-ports <first port> by default", () => {
      assert.equal(
        last(settings({ snat: true }, kinds), {}),
        `-t nat -p 6 -d 10.0.0.5 --dport 22 -m comment --comment _exp_${EXP} -j MASQUERADE --to-ports 55000`,
      );
    });

    test("specific: SNAT_TRANSLATE_IP gives SNAT --to-source, FORCE_MASQUERADE overrides it", () => {
      const s = settings({ snat: true, snatTranslateIp: "203.0.113.9" }, kinds);
      assert.equal(
        last(s, {}),
        `-t nat -p 6 -d 10.0.0.5 --dport 22 -m comment --comment _exp_${EXP} -j SNAT --to-source 203.0.113.9`,
      );
      assert.match(last(s, { forceMasquerade: true }), /-j MASQUERADE --to-ports 55000$/);
    });

    test("specific: FORCE_SNAT wins over everything, even with ENABLE_IPT_SNAT N", () => {
      const s = settings({ snatTranslateIp: "203.0.113.9" }, kinds);
      assert.match(
        last(s, { forceSnat: "192.0.2.1", forceMasquerade: true }),
        /-j SNAT --to-source 192\.0\.2\.1$/,
      );
    });

    test("FORWARD_ALL: MASQUERADE with no extra, or SNAT to the translate IP", () => {
      assert.equal(
        last(settings({ snat: true }, kinds), { forwardAll: true }),
        `-t nat -s 198.18.0.2 -m comment --comment _exp_${EXP} -j MASQUERADE`,
      );
      assert.equal(
        last(settings({ snat: true, snatTranslateIp: "203.0.113.9" }, kinds), { forwardAll: true }),
        `-t nat -s 198.18.0.2 -m comment --comment _exp_${EXP} -j SNAT --to-source 203.0.113.9`,
      );
    });
  });

  test("FORCE_NAT turns a plain access message into NAT access to the forced target", () => {
    const s = settings({}, ["input", "forward", "dnat"]);
    const stanza = {
      forceMasquerade: false,
      disableDnat: false,
      forwardAll: false,
      forceNat: { ip: "10.0.0.7", port: 2222 },
    };
    const rules = rulesForGrant(request({ stanza }), s, NOW);
    assert.deepEqual(
      rules.map((r) => r.toDestination ?? r.dport),
      [2222, "10.0.0.7:2222"],
    );
  });
});

describe("active chains (§11.1 table)", () => {
  test("INPUT always; FORWARD+DNAT with forwarding or local NAT; SNAT pair only with both", () => {
    const f = { output: false, forwarding: false, localNat: false, snat: false };
    assert.deepEqual(activeChainKinds(f), ["input"]);
    assert.deepEqual(activeChainKinds({ ...f, snat: true }), ["input"]);
    assert.deepEqual(activeChainKinds({ ...f, output: true, localNat: true }), [
      "input",
      "output",
      "forward",
      "dnat",
    ]);
    assert.deepEqual(activeChainKinds({ ...f, forwarding: true, snat: true }), [
      "input",
      "forward",
      "dnat",
      "snat",
      "masquerade",
    ]);
  });
});

describe("rule identity and parsing back", () => {
  test("ruleKey ignores expiry, /32 and an explicit 0.0.0.0/0", () => {
    const a: Rule = {
      chain: "input",
      proto: "tcp",
      src: "198.18.0.2",
      dst: "0.0.0.0/0",
      dport: 22,
      expiresAt: 1,
    };
    const b: Rule = {
      chain: "input",
      proto: "tcp",
      src: "198.18.0.2/32",
      dport: 22,
      expiresAt: 99,
    };
    assert.equal(ruleKey(a), ruleKey(b));
    assert.notEqual(ruleKey(a), ruleKey({ ...b, dport: 23 }));
    assert.notEqual(ruleKey(a), ruleKey({ ...b, chain: "output" }));
  });

  test("iptables -S lines (as iptables 1.8.9 prints them) parse back to the same identity", () => {
    const s = settings({ snat: true }, [
      "input",
      "output",
      "forward",
      "dnat",
      "snat",
      "masquerade",
    ]);
    const lines: [string, string, Rule["chain"]][] = [
      [
        "-A FWKNOP_INPUT -s 198.18.0.2/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_1795771323 -j ACCEPT",
        "FWKNOP_INPUT",
        "input",
      ],
      [
        "-A FWKNOP_OUTPUT -d 198.18.0.2/32 -p udp -m udp --sport 53 -m comment --comment _exp_1795771323 -j ACCEPT",
        "FWKNOP_OUTPUT",
        "output",
      ],
      [
        "-A FWKNOP_PREROUTING -s 198.18.1.1/32 -p tcp -m tcp --dport 5000 -m comment --comment _exp_1 -j DNAT --to-destination 10.0.0.5:22",
        "FWKNOP_PREROUTING",
        "dnat",
      ],
      [
        "-A FWKNOP_POSTROUTING -d 10.0.0.5/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_1 -j SNAT --to-source 1.2.3.4",
        "FWKNOP_POSTROUTING",
        "snat",
      ],
      [
        "-A FWKNOP_MASQUERADE -s 198.18.1.1/32 -m comment --comment _exp_1 -j MASQUERADE",
        "FWKNOP_MASQUERADE",
        "masquerade",
      ],
    ];
    const expected: Rule[] = [
      {
        chain: "input",
        proto: "tcp",
        src: "198.18.0.2",
        dst: "0.0.0.0/0",
        dport: 22,
        expiresAt: 1795771323,
      },
      {
        chain: "output",
        proto: "udp",
        dst: "198.18.0.2",
        src: "0.0.0.0/0",
        sport: 53,
        expiresAt: 1795771323,
      },
      {
        chain: "dnat",
        proto: "tcp",
        src: "198.18.1.1",
        dst: "0.0.0.0/0",
        dport: 5000,
        toDestination: "10.0.0.5:22",
        expiresAt: 1,
      },
      {
        chain: "snat",
        proto: "tcp",
        dst: "10.0.0.5",
        dport: 22,
        toSource: "1.2.3.4",
        expiresAt: 1,
      },
      { chain: "masquerade", src: "198.18.1.1", expiresAt: 1 },
    ];
    lines.forEach(([line, chain, kind], i) => {
      const parsed = parseRuleLine(line, chain, kind);
      assert.ok(parsed, line);
      const want = expected[i] as Rule;
      assert.equal(ruleKey(parsed), ruleKey(want), line);
      assert.equal(parsed.expiresAt, want.expiresAt);
      assert.ok(s.chains[kind]);
    });
  });

  test("lines without an _exp_ comment (jumps, set matches, foreign rules) are skipped", () => {
    assert.equal(parseRuleLine("-N FWKNOP_INPUT", "FWKNOP_INPUT", "input"), undefined);
    assert.equal(
      parseRuleLine(
        "-A FWKNOP_INPUT -m set --match-set FWKNOP_INPUT src,dst -j ACCEPT",
        "FWKNOP_INPUT",
        "input",
      ),
      undefined,
    );
    assert.equal(
      parseRuleLine(
        "-A FWKNOP_INPUT -s 1.2.3.4/32 -p icmp -m comment --comment _exp_5 -j ACCEPT",
        "FWKNOP_INPUT",
        "input",
      ),
      undefined,
    );
  });

  test("ipset list output parses to set-backed rules; only plain INPUT grants fit a set", () => {
    const text = [
      "Name: FWKNOP_INPUT",
      "Type: hash:ip,port",
      "Header: family inet hashsize 1024 maxelem 1048576 timeout 0 comment",
      "Members:",
      '198.18.0.2,tcp:22 timeout 29 comment "_exp_1795771323"',
      '198.18.0.3,udp:53 timeout 5 comment "other"',
      "",
    ].join("\n");
    assert.deepEqual(parseSetList(text), [
      {
        chain: "input",
        proto: "tcp",
        src: "198.18.0.2",
        dport: 22,
        expiresAt: 1795771323,
        via: "ipset",
      },
    ]);
    const dstText = 'Members:\n198.18.0.2,tcp:22,198.18.0.1 timeout 9 comment "_exp_7"\n';
    assert.equal(parseSetList(`x\n${dstText}`)[0]?.dst, "198.18.0.1");
    const input: Rule = {
      chain: "input",
      proto: "tcp",
      src: "198.18.0.2",
      dst: "0.0.0.0/0",
      dport: 22,
      expiresAt: 1,
    };
    assert.equal(fitsSet(input), true);
    assert.equal(fitsSet({ ...input, dst: "198.18.0.1" }), true);
    assert.equal(fitsSet({ ...input, chain: "output" }), false);
    assert.equal(fitsSet({ ...input, src: "198.18.0.0/24" }), false);
  });
});
