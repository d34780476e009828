/**
 * pf and ipfw (spec §11.3, §11.4): the exact 2.6.10 command lines, listings read back, rule-number
 * allocation, the settings and their checks, and the platform default of FIREWALL_TYPE.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { platformFirewallType } from "../../src/config/server-variables.js";
import type { Rule } from "../../src/firewall/backend.js";
import {
  DEFAULT_IPFW_SETTINGS,
  freeRuleNumbers,
  ipfwAddArgs,
  ipfwArgs,
  parseIpfwList,
} from "../../src/firewall/ipfw-rules.js";
import { parsePfLine, pfRuleLine } from "../../src/firewall/pf-rules.js";
import { type GrantRequest, rulesForGrant } from "../../src/firewall/rules.js";
import { backendSettingsFromConfig as settingsFromConfig } from "../../src/firewall/select.js";
import { makeStanza } from "../helpers/stanza.js";

const work = mkdtempSync(join(tmpdir(), "fwknop-bsd-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
function config(text: string) {
  const path = join(work, `c${++seq}.conf`);
  writeFileSync(path, text, { mode: 0o600 });
  return loadServerConfig({ configFile: path, warn: () => {} });
}

const NOW = 1_795_771_293;
const EXP = NOW + 30;

function knock(over: Partial<GrantRequest> = {}): GrantRequest {
  const stanza = makeStanza();
  return {
    clientIp: "198.18.0.2",
    packetDstIp: "198.18.0.1",
    ports: [
      { proto: "tcp", port: 22 },
      { proto: "udp", port: 53 },
    ],
    messageType: 1,
    timeout: 30,
    stanza: {
      forceMasquerade: stanza.forceMasquerade,
      disableDnat: stanza.disableDnat,
      forwardAll: stanza.forwardAll,
    },
    ...over,
  };
}

describe("pf (spec §11.3)", () => {
  test("a knock's rules are the 2.6.10 anchor lines, one per proto/port", () => {
    const cfg = config("FIREWALL_TYPE pf\n");
    const s = settingsFromConfig(cfg);
    assert.equal(s.exe, "/sbin/pfctl");
    assert.equal(s.pf?.anchor, "fwknop");
    assert.deepEqual(rulesForGrant(knock(), s, NOW).map(pfRuleLine), [
      `pass in quick proto 6 from 198.18.0.2 to any port 22 keep state label _exp_${EXP}`,
      `pass in quick proto 17 from 198.18.0.2 to any port 53 keep state label _exp_${EXP}`,
    ]);
    const dst = settingsFromConfig(config("FIREWALL_TYPE pf\nENABLE_DESTINATION_RULE Y\n"));
    assert.deepEqual(
      rulesForGrant(knock({ ports: [{ proto: "tcp", port: 22 }] }), dst, NOW).map(pfRuleLine),
      [`pass in quick proto 6 from 198.18.0.2 to 198.18.0.1 port 22 keep state label _exp_${EXP}`],
    );
  });

  test("pfctl's listing (names, `port =`, flags, quoted label) reads back into the same rule", () => {
    const [rule] = rulesForGrant(
      knock({ ports: [{ proto: "tcp", port: 22 }] }),
      settingsFromConfig(config("FIREWALL_TYPE pf\n")),
      NOW,
    );
    const listed = parsePfLine(
      `pass in quick proto tcp from 198.18.0.2 to any port = 22 flags S/SA keep state label "_exp_${EXP}"`,
    );
    assert.deepEqual(listed, {
      chain: "input",
      proto: "tcp",
      src: "198.18.0.2",
      dport: 22,
      expiresAt: EXP,
      via: "chain",
    });
    assert.equal(parsePfLine(pfRuleLine(rule as Rule))?.expiresAt, EXP);
    assert.equal(
      parsePfLine("pass in quick proto tcp from any to any port = 80 keep state"),
      undefined,
    );
    assert.equal(parsePfLine("block drop in all"), undefined);
  });

  test("NAT-kind rules are refused (pf builds of 2.6.10 grant plain access only)", () => {
    assert.throws(
      () => pfRuleLine({ chain: "dnat", src: "198.18.0.2", expiresAt: EXP }),
      (e: Error & { code?: string }) => e.code === "FWK_ERR_FW_CHAIN_INACTIVE",
    );
  });

  test("PF_ANCHOR_NAME is checked; PF_EXPIRE_INTERVAL keeps its range", () => {
    assert.equal(
      settingsFromConfig(config("FIREWALL_TYPE pf\nPF_ANCHOR_NAME spa/fwknop\n")).pf?.anchor,
      "spa/fwknop",
    );
    assert.throws(
      () => settingsFromConfig(config('FIREWALL_TYPE pf\nPF_ANCHOR_NAME bad"name\n')),
      /\.conf:2: Invalid PF_ANCHOR_NAME/,
    );
    assert.throws(
      () => config("FIREWALL_TYPE pf\nPF_EXPIRE_INTERVAL 0\n"),
      /not in the range 1-131071/,
    );
  });
});

describe("ipfw (spec §11.4)", () => {
  test("the add command is the 2.6.10 template; `me`/`me6` unless ENABLE_DESTINATION_RULE", () => {
    const s = settingsFromConfig(config("FIREWALL_TYPE ipfw\n"));
    assert.equal(s.exe, "/sbin/ipfw");
    const ipfw = s.ipfw ?? DEFAULT_IPFW_SETTINGS;
    const [tcp, udp] = rulesForGrant(knock(), s, NOW) as [Rule, Rule];
    assert.equal(
      ipfwAddArgs(10000, tcp, ipfw).join(" "),
      `add 10000 set 1 pass 6 from 198.18.0.2 to me dst-port 22 setup keep-state // _exp_${EXP}`,
    );
    assert.equal(
      ipfwAddArgs(10000, udp, ipfw).join(" "),
      `add 10000 set 1 pass 17 from 198.18.0.2 to me dst-port 53 setup keep-state // _exp_${EXP}`,
    );
    const v6 = rulesForGrant(
      knock({ clientIp: "2001:db8::2", ports: [{ proto: "tcp", port: 22 }] }),
      s,
      NOW,
    );
    assert.match(
      ipfwAddArgs(10001, v6[0] as Rule, ipfw).join(" "),
      / from 2001:db8::2 to me6 dst-port 22 /,
    );
    const dst = settingsFromConfig(
      config("FIREWALL_TYPE ipfw\nENABLE_DESTINATION_RULE Y\nIPFW_ACTIVE_SET_NUM 5\n"),
    );
    const [d] = rulesForGrant(knock(), dst, NOW) as [Rule];
    assert.equal(
      ipfwAddArgs(10000, d, dst.ipfw ?? DEFAULT_IPFW_SETTINGS).join(" "),
      `add 10000 set 5 pass 6 from 198.18.0.2 to 198.18.0.1 dst-port 22 setup keep-state // _exp_${EXP}`,
    );
  });

  test("sets, check-state, move, purge and flush commands", () => {
    const s = { ...DEFAULT_IPFW_SETTINGS };
    assert.equal(ipfwArgs.checkState(10000, s).join(" "), "add 10000 set 1 check-state");
    assert.equal(ipfwArgs.moveRule(10003, s).join(" "), "set move rule 10003 to 2");
    assert.equal(ipfwArgs.disableSet(2).join(" "), "set disable 2");
    assert.equal(ipfwArgs.listActive(s).join(" "), "-d -S -T set 1 list");
    assert.equal(ipfwArgs.listExpired(s).join(" "), "-S set 2 list");
    assert.equal(ipfwArgs.listExpiredDynamic(s).join(" "), "-d set 2 list");
    assert.equal(ipfwArgs.deleteFromSet(2, 10003).join(" "), "set 2 delete 10003");
    assert.equal(ipfwArgs.deleteSet(1).join(" "), "delete set 1");
  });

  test("a listing reads back rules, check-state and the numbers with dynamic state", () => {
    const text = [
      "10000 0 set 1 check-state :default",
      `10001 1733580000 set 1 allow tcp from 198.18.0.2 to me dst-port 22 setup keep-state // _exp_${EXP}`,
      `10001 0 set 1 allow udp from 198.18.0.2 to 198.18.0.1 dst-port 53 setup keep-state // _exp_${EXP}`,
      "10002 0 set 1 allow tcp from any to any dst-port 80",
      "## Dynamic rules (1):",
      "10001 3 180 (5s) STATE tcp 198.18.0.2 40000 <-> 198.18.0.1 22",
    ].join("\n");
    const { rules, dynamic } = parseIpfwList(text);
    assert.deepEqual(
      rules.map((r) => [r.num, r.checkState, r.rule?.dport]),
      [
        [10000, true, undefined],
        [10001, false, 22],
        [10001, false, 53],
        [10002, false, undefined],
      ],
    );
    assert.deepEqual(rules[2]?.rule, {
      chain: "input",
      proto: "udp",
      src: "198.18.0.2",
      dst: "198.18.0.1",
      dport: 53,
      expiresAt: EXP,
      via: "chain",
    });
    assert.deepEqual([...dynamic], [10001]);
  });

  test("rule numbers: lowest free in the window; numbers in use are skipped; the window can run out", () => {
    const s = { ...DEFAULT_IPFW_SETTINGS, startRuleNum: 500, maxRules: 4 };
    assert.deepEqual(freeRuleNumbers(s, new Set(), 2), [500, 501]);
    assert.deepEqual(freeRuleNumbers(s, new Set([500, 502]), 3), [501, 503]);
    assert.deepEqual(freeRuleNumbers(s, new Set([500, 501, 502, 503]), 1), []);
  });

  test("identical active and expire sets are refused; ranges as upstream", () => {
    assert.throws(
      () =>
        settingsFromConfig(
          config("FIREWALL_TYPE ipfw\nIPFW_ACTIVE_SET_NUM 3\nIPFW_EXPIRE_SET_NUM 3\n"),
        ),
      /\.conf:3: Cannot set identical ipfw active and expire sets/,
    );
    assert.throws(
      () => config("FIREWALL_TYPE ipfw\nIPFW_ACTIVE_SET_NUM 64\n"),
      /not in the range 0-63/,
    );
    const s = settingsFromConfig(
      config(
        "FIREWALL_TYPE ipfw\nIPFW_START_RULE_NUM 2000\nIPFW_MAX_RULES 10\nIPFW_ADD_CHECK_STATE Y\nIPFW_EXPIRE_PURGE_INTERVAL 5\n",
      ),
    );
    assert.deepEqual(s.ipfw, {
      startRuleNum: 2000,
      maxRules: 10,
      activeSet: 1,
      expireSet: 2,
      purgeInterval: 5,
      addCheckState: true,
    });
  });
});

test("FIREWALL_TYPE follows the OS when unset, as upstream's builds do", () => {
  assert.equal(platformFirewallType("linux"), "iptables");
  assert.equal(platformFirewallType("freebsd"), "ipfw");
  assert.equal(platformFirewallType("openbsd"), "pf");
  assert.equal(platformFirewallType("darwin"), "pf");
  assert.equal(
    config("").firewallType,
    process.platform === "linux" ? "iptables" : platformFirewallType(),
  );
});
