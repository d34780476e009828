/**
 * firewalld: our firewall-cmd calls for a knock, side by side with the ones fwknopd 2.6.10's
 * firewalld build makes (spec §11.2: the §11.1 templates behind `--direct --passthrough ipv4`,
 * upstream's argument order), and the rich rules of our default mode.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import type { Rule } from "../../src/firewall/backend.js";
import { deleteChains } from "../../src/firewall/chain-steps.js";
import {
  directArgs,
  directFamily,
  parseRichRule,
  passthrough,
  richAddArgv,
  richRemoveArgv,
  richRule,
} from "../../src/firewall/firewalld-commands.js";
import { type GrantRequest, rulesForGrant } from "../../src/firewall/rules.js";
import {
  type BackendSettings,
  backendSettingsFromConfig as settingsFromConfig,
} from "../../src/firewall/select.js";
import { makeStanza } from "../helpers/stanza.js";

const work = mkdtempSync(join(tmpdir(), "fwknop-firewd-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
function settingsOf(text: string): BackendSettings {
  const path = join(work, `c${++seq}.conf`);
  writeFileSync(path, `FIREWALL_TYPE firewalld\n${text}`, { mode: 0o600 });
  return settingsFromConfig(loadServerConfig({ configFile: path, warn: () => {} }));
}

const NOW = 1_795_771_293;
const EXP = NOW + 30;
const FC = "/usr/bin/firewall-cmd";

function knock(over: Partial<GrantRequest> = {}): GrantRequest {
  const stanza = makeStanza();
  return {
    clientIp: "198.18.0.2",
    packetDstIp: "198.18.0.1",
    ports: [{ proto: "tcp", port: 22 }],
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

/** Our passthrough command for adding each rule of a knock, as one string per command. */
function addCommands(s: BackendSettings, req: GrantRequest): string[] {
  return rulesForGrant(req, s, NOW).map((r) => {
    const spec = s.chains[r.chain];
    assert.ok(spec);
    return passthrough(s.exe, directFamily(r), directArgs.addRule(r, spec, s.prepend)).join(" ");
  });
}

describe("firewalld passthrough mode = fwknopd 2.6.10's firewalld build (spec §11.2)", () => {
  test("defaults: FIREWD_* variables, firewall-cmd, rich mode unless FIREWD_MODE passthrough", () => {
    const s = settingsOf("");
    assert.equal(s.exe, FC);
    assert.deepEqual(s.firewalld, { mode: "rich" });
    assert.deepEqual(Object.keys(s.chains), ["input"]);
    assert.equal(s.chains.input?.toChain, "FWKNOP_INPUT");
    assert.deepEqual(settingsOf("FIREWD_MODE passthrough\nFIREWD_ZONE internal\n").firewalld, {
      mode: "passthrough",
      zone: "internal",
    });
    assert.throws(() => settingsOf("FIREWD_MODE direct\n"), /\.conf:2: Invalid FIREWD_MODE/);
  });

  test("init commands: chain, jump check, jump rule, flush, listing", () => {
    const input = settingsOf("").chains.input;
    assert.ok(input);
    const cmd = (args: readonly string[]) => passthrough(FC, "ipv4", args).join(" ");
    const p = `${FC} --direct --passthrough ipv4`;
    assert.equal(cmd(directArgs.createChain(input)), `${p} -t filter -N FWKNOP_INPUT`);
    assert.equal(cmd(directArgs.checkJump(input)), `${p} -C INPUT -t filter -j FWKNOP_INPUT`);
    assert.equal(cmd(directArgs.listJumps(input)), `${p} -t filter -L INPUT --line-numbers -n`);
    assert.equal(cmd(directArgs.addJump(input)), `${p} -t filter -I INPUT 1 -j FWKNOP_INPUT`);
    assert.equal(
      cmd(directArgs.listChain(input)),
      `${p} -t filter -L FWKNOP_INPUT --line-numbers -n`,
    );
  });

  test("flush (spec §11.1.6): jump rules out until none is left, then -F and -X", async () => {
    const input = settingsOf("").chains.input;
    assert.ok(input);
    const calls: string[] = [];
    await deleteChains(
      async (args) => {
        calls.push(passthrough(FC, "ipv4", args).join(" "));
        // One jump rule to delete: the second -D finds none.
        return { code: calls.length === 2 ? 1 : 0, signal: null, stdout: "", stderr: "" };
      },
      [input],
    );
    const p = `${FC} --direct --passthrough ipv4`;
    assert.deepEqual(calls, [
      `${p} -t filter -D INPUT -j FWKNOP_INPUT`,
      `${p} -t filter -D INPUT -j FWKNOP_INPUT`,
      `${p} -t filter -F FWKNOP_INPUT`,
      `${p} -t filter -X FWKNOP_INPUT`,
    ]);
  });

  test("a knock for tcp/22: the §11.1.2 INPUT template after -A FWKNOP_INPUT", () => {
    const s = settingsOf("FIREWD_MODE passthrough\n");
    assert.deepEqual(addCommands(s, knock()), [
      `${FC} --direct --passthrough ipv4 -A FWKNOP_INPUT -t filter -p 6 -s 198.18.0.2 -d 0.0.0.0/0 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
    ]);
    const prepend = settingsOf(
      "ENABLE_RULE_PREPEND Y\nENABLE_DESTINATION_RULE Y\nENABLE_FIREWD_OUTPUT Y\n",
    );
    assert.deepEqual(addCommands(prepend, knock()), [
      `${FC} --direct --passthrough ipv4 -I FWKNOP_INPUT 1 -t filter -p 6 -s 198.18.0.2 -d 198.18.0.1 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
      `${FC} --direct --passthrough ipv4 -I FWKNOP_OUTPUT 1 -t filter -p 6 -d 198.18.0.2 -s 198.18.0.1 --sport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
    ]);
  });

  test("NAT access: FORWARD, DNAT and SNAT/MASQUERADE templates in their tables", () => {
    const s = settingsOf("ENABLE_FIREWD_FORWARDING Y\nENABLE_FIREWD_SNAT Y\n");
    const nat = knock({
      messageType: 2,
      nat: { ip: "192.0.2.5", port: 22 },
      ports: [{ proto: "tcp", port: 2200 }],
    });
    const p = `${FC} --direct --passthrough ipv4`;
    assert.deepEqual(addCommands(s, nat), [
      `${p} -A FWKNOP_FORWARD -t filter -p 6 -s 198.18.0.2 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
      `${p} -A FWKNOP_PREROUTING -t nat -p 6 -s 198.18.0.2 -d 0.0.0.0/0 --dport 2200 -m comment --comment _exp_${EXP} -j DNAT --to-destination 192.0.2.5:22`,
      `${p} -A FWKNOP_MASQUERADE -t nat -p 6 -d 192.0.2.5 --dport 22 -m comment --comment _exp_${EXP} -j MASQUERADE --to-ports 2200`,
    ]);
    const snat = settingsOf(
      "ENABLE_FIREWD_FORWARDING Y\nENABLE_FIREWD_SNAT Y\nSNAT_TRANSLATE_IP 203.0.113.9\n",
    );
    assert.equal(
      addCommands(snat, nat)[2],
      `${p} -A FWKNOP_POSTROUTING -t nat -p 6 -d 192.0.2.5 --dport 22 -m comment --comment _exp_${EXP} -j SNAT --to-source 203.0.113.9`,
    );
  });

  test("IPv6 clients go through --passthrough ipv6 with the same chain", () => {
    const s = settingsOf("FIREWD_MODE passthrough\n");
    assert.deepEqual(addCommands(s, knock({ clientIp: "2001:db8::2" })), [
      `${FC} --direct --passthrough ipv6 -A FWKNOP_INPUT -t filter -p 6 -s 2001:db8::2 -d ::/0 --dport 22 -m comment --comment _exp_${EXP} -j ACCEPT`,
    ]);
  });
});

describe("firewalld rich mode (ours, the default)", () => {
  test("an access grant is a runtime rich rule with a timeout; the _exp_ marker reads back", () => {
    const s = settingsOf("");
    const rules = rulesForGrant(
      knock({
        ports: [
          { proto: "tcp", port: 22 },
          { proto: "udp", port: 53 },
        ],
      }),
      s,
      NOW,
    );
    const text = `rule family="ipv4" source address="198.18.0.2" port port="22" protocol="tcp" log prefix="fwknop _exp_${EXP} " level="info" limit value="1/h" accept`;
    assert.equal(richRule(rules[0] as Rule), text);
    assert.deepEqual(richAddArgv(FC, undefined, rules, 30), [
      FC,
      `--add-rich-rule=${text}`,
      `--add-rich-rule=${text.replace('port="22" protocol="tcp"', 'port="53" protocol="udp"')}`,
      "--timeout=30s",
    ]);
    assert.deepEqual(richRemoveArgv(FC, "public", rules.slice(0, 1)), [
      FC,
      "--zone=public",
      `--remove-rich-rule=${text}`,
    ]);
    assert.deepEqual(parseRichRule(text), {
      chain: "input",
      proto: "tcp",
      src: "198.18.0.2",
      dport: 22,
      expiresAt: EXP,
    });
  });

  test("IPv6 and destination rules; other rich rules are not ours", () => {
    const s = settingsOf("ENABLE_DESTINATION_RULE Y\n");
    const [v6] = rulesForGrant(
      knock({ clientIp: "2001:db8::2", packetDstIp: "2001:db8::1" }),
      s,
      NOW,
    );
    const text = richRule(v6 as Rule);
    assert.match(
      text,
      /^rule family="ipv6" source address="2001:db8::2" destination address="2001:db8::1" port port="22"/,
    );
    assert.deepEqual(parseRichRule(text), {
      chain: "input",
      proto: "tcp",
      src: "2001:db8::2",
      dst: "2001:db8::1",
      dport: 22,
      expiresAt: EXP,
    });
    assert.equal(
      parseRichRule(
        'rule family="ipv4" source address="198.18.0.9" port port="22" protocol="tcp" accept',
      ),
      undefined,
    );
    assert.equal(
      parseRichRule(
        'rule family="ipv4" source address="198.18.0.9" port port="22" protocol="tcp" log prefix="fwknop _exp_1 " level="info" drop',
      ),
      undefined,
    );
    assert.throws(
      () => richRule({ chain: "dnat", src: "198.18.0.2", expiresAt: EXP }),
      /rich rule carries access rules only/,
    );
  });
});
