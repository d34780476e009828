import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { createFirewallBackend } from "../../src/firewall/select.js";
import { settingsFromConfig } from "../../src/firewall/settings.js";
import { silentLogger } from "../../src/log/logger.js";

const work = mkdtempSync(join(tmpdir(), "fwknop-fw-settings-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

function settingsOf(text: string) {
  const path = join(work, `c${++seq}.conf`);
  writeFileSync(path, text, { mode: 0o600 });
  return settingsFromConfig(loadServerConfig({ configFile: path, warn: () => {} }));
}

describe("settingsFromConfig", () => {
  test("upstream defaults: only FWKNOP_INPUT, comment check on, append, no destination rule", () => {
    const s = settingsOf("");
    assert.deepEqual(Object.keys(s.chains), ["input"]);
    assert.deepEqual(s.chains.input, {
      target: "ACCEPT",
      table: "filter",
      fromChain: "INPUT",
      jumpPosition: 1,
      toChain: "FWKNOP_INPUT",
      rulePosition: 1,
    });
    assert.equal(s.exe, "/usr/sbin/iptables");
    assert.equal(s.commentCheck, true);
    assert.equal(s.prepend, false);
    assert.equal(s.destinationRule, false);
    assert.equal(s.ipset, false);
    assert.equal(s.snatTranslateIp, undefined);
  });

  test("the ENABLE_IPT_* switches activate chains as in spec §11.1; custom chain specs are used", () => {
    const s = settingsOf(
      [
        "ENABLE_IPT_OUTPUT Y;",
        "ENABLE_IPT_LOCAL_NAT Y;",
        "ENABLE_IPT_SNAT Y;",
        "SNAT_TRANSLATE_IP 203.0.113.9;",
        "ENABLE_RULE_PREPEND Y;",
        "ENABLE_DESTINATION_RULE Y;",
        "IPT_INPUT_ACCESS ACCEPT, filter, INPUT, 2, MY_SPA, 1;",
        "",
      ].join("\n"),
    );
    assert.deepEqual(Object.keys(s.chains), [
      "input",
      "output",
      "forward",
      "dnat",
      "snat",
      "masquerade",
    ]);
    assert.equal(s.chains.input?.toChain, "MY_SPA");
    assert.equal(s.chains.input?.jumpPosition, 2);
    assert.equal(s.snat, true);
    assert.equal(s.snatTranslateIp, "203.0.113.9");
    assert.equal(s.prepend, true);
    assert.equal(s.destinationRule, true);
  });

  test("FIREWALL_TYPE picks the backend from the registry; unknown names are refused", () => {
    const s = settingsOf("");
    assert.equal(createFirewallBackend("iptables", s, { log: silentLogger }).name, "iptables");
    assert.equal(
      createFirewallBackend("iptables", s, { log: silentLogger }).chainName("input"),
      "FWKNOP_INPUT",
    );
    assert.throws(
      () => createFirewallBackend("ebtables", s, { log: silentLogger }),
      (e: Error & { code?: string }) => e.code === "FWK_ERR_FW_UNKNOWN_TYPE",
    );
    assert.throws(
      () => createFirewallBackend("iptables", { ...s, exe: "" }, { log: silentLogger }),
      /No firewall command executable is set/,
    );
  });
});
