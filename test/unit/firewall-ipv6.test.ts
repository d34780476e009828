import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { ip6tablesSibling } from "../../src/config/server-variables.js";
import { isIpv6Rule } from "../../src/firewall/iptables-dual-stack.js";
import {
  createSetLines,
  fitsSet,
  ipsetNames,
  parseSetList,
} from "../../src/firewall/iptables-ipset.js";
import type { Rule } from "../../src/firewall/rule.js";
import { parseRuleLine } from "../../src/firewall/rule-line.js";
import { type GrantRequest, ruleArgs, ruleKey, rulesForGrant } from "../../src/firewall/rules.js";
import { createFirewallBackend } from "../../src/firewall/select.js";
import {
  DEFAULT_CHAIN_SPECS,
  defaultFirewallSettings,
  settingsFromConfig,
} from "../../src/firewall/settings.js";
import { silentLogger } from "../../src/log/logger.js";

const NOW = 1_795_771_293;
const EXP = NOW + 30;

function request(over: Partial<GrantRequest> = {}): GrantRequest {
  return {
    clientIp: "2001:db8::2",
    packetDstIp: "::",
    ports: [{ proto: "tcp", port: 2222 }],
    messageType: 1,
    timeout: 30,
    stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
    ...over,
  };
}

function settings() {
  const s = defaultFirewallSettings();
  s.chains.output = { ...DEFAULT_CHAIN_SPECS.output };
  return s;
}

describe("rules for an IPv6 client", () => {
  test("'any' is ::/0, so the rule is valid ip6tables; arguments are the IPv4 template's", () => {
    const [input, output] = rulesForGrant(request(), settings(), NOW);
    assert.deepEqual(input && { src: input.src, dst: input.dst }, {
      src: "2001:db8::2",
      dst: "::/0",
    });
    assert.deepEqual(output && { src: output.src, dst: output.dst }, {
      src: "::/0",
      dst: "2001:db8::2",
    });
    assert.ok(input);
    assert.deepEqual(ruleArgs(input, DEFAULT_CHAIN_SPECS.input), [
      ...["-p", "6", "-s", "2001:db8::2", "-d", "::/0", "--dport", "2222"],
      ...["-m", "comment", "--comment", `_exp_${EXP}`, "-j", "ACCEPT"],
    ]);
    assert.equal(input.note?.dst, "::/0");
  });

  test("ENABLE_DESTINATION_RULE uses the packet's IPv6 destination", () => {
    const s = { ...settings(), destinationRule: true };
    const [input] = rulesForGrant(request({ packetDstIp: "2001:db8::1" }), s, NOW);
    assert.equal(input?.dst, "2001:db8::1");
  });

  test("an IPv4 client still gets 0.0.0.0/0", () => {
    const [input] = rulesForGrant(request({ clientIp: "198.18.0.2" }), settings(), NOW);
    assert.equal(input?.dst, "0.0.0.0/0");
  });

  test("ip6tables -S lines parse back to the same rule identity (/128 hosts, ::/0 omitted)", () => {
    const [input] = rulesForGrant(request(), settings(), NOW);
    assert.ok(input);
    const line = `-A FWKNOP_INPUT -s 2001:db8::2/128 -p tcp -m tcp --dport 2222 -m comment --comment _exp_${EXP} -j ACCEPT`;
    const parsed = parseRuleLine(line, "FWKNOP_INPUT", "input");
    assert.deepEqual(parsed, {
      chain: "input",
      proto: "tcp",
      src: "2001:db8::2",
      dport: 2222,
      expiresAt: EXP,
      via: "chain",
    });
    assert.equal(parsed && ruleKey(parsed), ruleKey(input));
  });

  test("a /32 IPv6 network is not mistaken for an IPv4 host", () => {
    const line =
      "-A FWKNOP_INPUT -s 2001:db8::/32 -p tcp --dport 22 -m comment --comment _exp_5 -j ACCEPT";
    assert.equal(parseRuleLine(line, "FWKNOP_INPUT", "input")?.src, "2001:db8::/32");
  });

  test("the family of a rule follows its addresses", () => {
    const [v6] = rulesForGrant(request(), settings(), NOW);
    const [v4] = rulesForGrant(request({ clientIp: "198.18.0.2" }), settings(), NOW);
    assert.equal(v6 && isIpv6Rule(v6), true);
    assert.equal(v4 && isIpv6Rule(v4), false);
    // An OUTPUT rule names the client as destination.
    assert.equal(isIpv6Rule({ chain: "output", dst: "2001:db8::2", expiresAt: 1 }), true);
  });
});

describe("ipset mode for IPv6", () => {
  const names = ipsetNames(DEFAULT_CHAIN_SPECS.input, "inet6");

  test("IPv6 sets are family inet6 with a 6 suffix (ipset names are shared by both families)", () => {
    assert.deepEqual(names, { any: "FWKNOP_INPUT6", dst: "FWKNOP_INPUT_DST6", family: "inet6" });
    assert.deepEqual(ipsetNames(DEFAULT_CHAIN_SPECS.input), {
      any: "FWKNOP_INPUT",
      dst: "FWKNOP_INPUT_DST",
      family: "inet",
    });
    for (const l of createSetLines(names))
      assert.match(l, /^create FWKNOP_INPUT(_DST)?6 .*family inet6 /);
  });

  test("plain IPv6 INPUT grants fit a set; networks and mixed families do not", () => {
    const r: Rule = {
      chain: "input",
      proto: "tcp",
      src: "2001:db8::2",
      dst: "::/0",
      dport: 22,
      expiresAt: 1,
    };
    assert.equal(fitsSet(r), true);
    assert.equal(fitsSet({ ...r, dst: "2001:db8::1" }), true);
    assert.equal(fitsSet({ ...r, dst: "198.18.0.1" }), false);
    assert.equal(fitsSet({ ...r, src: "2001:db8::/64" }), false);
  });

  test("ipset list output with IPv6 members parses back", () => {
    const text = [
      "Name: FWKNOP_INPUT_DST6",
      "Header: family inet6 hashsize 1024 maxelem 1048576 timeout 0 comment",
      "Members:",
      '2001:db8::2,tcp:2222,2001:db8:: timeout 29 comment "_exp_1795771323"',
      "",
    ].join("\n");
    assert.deepEqual(parseSetList(text), [
      {
        chain: "input",
        proto: "tcp",
        src: "2001:db8::2",
        dst: "2001:db8::",
        dport: 2222,
        expiresAt: 1795771323,
        via: "ipset",
      },
    ]);
  });
});

test("FIREWALL_EXE_IPV6 defaults to the ip6tables next to FIREWALL_EXE", () => {
  assert.equal(ip6tablesSibling("/usr/sbin/iptables"), "/usr/sbin/ip6tables");
  assert.equal(ip6tablesSibling("/sbin/iptables-legacy"), "/sbin/ip6tables-legacy");
  assert.equal(ip6tablesSibling("iptables-nft"), "ip6tables-nft");
  assert.equal(ip6tablesSibling("/usr/local/bin/my-iptables"), undefined);
  assert.equal(ip6tablesSibling("/opt/iptables/bin/wrapper"), undefined);
});

test("FIREWALL_EXE_IPV6 follows FIREWALL_EXE; `none` turns IPv6 grants off", () => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-v6conf-"));
  try {
    const exe6 = (text: string) => {
      const path = join(dir, "fwknopd.conf");
      writeFileSync(path, text, { mode: 0o600 });
      return settingsFromConfig(loadServerConfig({ configFile: path, warn: () => {} })).exe6;
    };
    assert.equal(exe6(""), "/usr/sbin/ip6tables");
    assert.equal(exe6("FIREWALL_EXE /usr/sbin/iptables-legacy\n"), "/usr/sbin/ip6tables-legacy");
    assert.equal(exe6("FIREWALL_EXE_IPV6 /opt/ip6tables\n"), "/opt/ip6tables");
    assert.equal(exe6("FIREWALL_EXE_IPV6 none\n"), undefined);
    assert.equal(exe6("FIREWALL_TYPE nftables\n"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the iptables backend sends each rule of a mixed batch to its family's restore tool", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-v6fake-"));
  try {
    // Stand-ins: the tools succeed silently (the IPv6 side is set up at its first batch), the
    // restore tools record the script they were fed.
    for (const tool of ["iptables", "ip6tables"]) {
      writeFileSync(join(dir, tool), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      writeFileSync(join(dir, `${tool}-restore`), `#!/bin/sh\ncat > "${dir}/${tool}.fed"\n`, {
        mode: 0o755,
      });
    }
    const s = {
      ...settings(),
      exe: join(dir, "iptables"),
      exe6: join(dir, "ip6tables"),
      commentCheck: false,
      checkSupport: false,
    };
    const backend = createFirewallBackend("iptables", s, { log: silentLogger });
    const rules = [
      ...rulesForGrant(request(), s, NOW),
      ...rulesForGrant(request({ clientIp: "198.18.0.2" }), s, NOW),
    ];
    await backend.apply(rules, []);
    const fed = (tool: string) => readFileSync(join(dir, `${tool}.fed`), "utf8");
    assert.match(fed("ip6tables"), /-A FWKNOP_INPUT -p 6 -s 2001:db8::2 -d ::\/0 /);
    assert.match(fed("ip6tables"), /-A FWKNOP_OUTPUT -p 6 -d 2001:db8::2 -s ::\/0 /);
    assert.doesNotMatch(fed("ip6tables"), /198\.18/);
    assert.match(fed("iptables"), /-A FWKNOP_INPUT -p 6 -s 198\.18\.0\.2 -d 0\.0\.0\.0\/0 /);
    assert.doesNotMatch(fed("iptables"), /2001:db8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
