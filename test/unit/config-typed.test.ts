/**
 * Typed configuration: names are checked by the compiler, defaulted variables always have a
 * value, and each consumer gets its settings object from the config boundary.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadServerConfig, type ServerConfig } from "../../src/config/server-config.js";
import {
  FAMILY_VARIABLES,
  SERVER_VARIABLES,
  type ServerVariableName,
} from "../../src/config/server-variables.js";
import {
  fileSettings,
  flushSettings,
  grantStageSettings,
  pipelineSettings,
} from "../../src/server/daemon-settings.js";

const dir = mkdtempSync(join(tmpdir(), "fwk-typed-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function load(text: string): ServerConfig {
  const path = join(dir, `c${++n}.conf`);
  writeFileSync(path, text, { mode: 0o600 });
  return loadServerConfig({ configFile: path, warn: () => {} });
}

test("a variable with a fixed default is never undefined, even with an empty file", () => {
  const cfg = load("");
  for (const v of SERVER_VARIABLES) {
    if (typeof v.def !== "string") continue;
    assert.notEqual(cfg.get(v.name as ServerVariableName), undefined, v.name);
  }
  // The type says so too: no `?? default` needed (this line would not compile otherwise).
  const sudo: string = cfg.get("SUDO_EXE");
  assert.equal(sudo, "/usr/bin/sudo");
});

test("a misspelt variable name does not compile", () => {
  const cfg = load("");
  // @ts-expect-error FIREWALL_TYP is not a fwknopd.conf variable
  assert.equal(cfg.get("FIREWALL_TYP"), undefined);
});

test("every family's variables are in the table, written out in full", () => {
  const known = new Set(SERVER_VARIABLES.map((v) => v.name));
  for (const f of Object.values(FAMILY_VARIABLES)) {
    for (const name of [
      f.forwarding,
      f.localNat,
      f.snat,
      f.output,
      f.flushAtInit,
      f.flushAtExit,
      f.commentCheck,
      ...Object.values(f.chains),
    ]) {
      assert.ok(known.has(name), name);
    }
  }
});

test("settings objects follow the selected family and carry the defaults", () => {
  const cfg = load(
    "FIREWALL_TYPE nftables\nENABLE_NFT_FORWARDING Y\nENABLE_IPT_LOCAL_NAT Y\nFLUSH_NFT_AT_EXIT N\nENABLE_NAT_DNS N\n",
  );
  assert.deepEqual(pipelineSettings(cfg).policy, {
    packetAging: true,
    maxPacketAge: 120,
    natForwarding: true,
    localNat: false,
  });
  assert.deepEqual(flushSettings(cfg), { atInit: true, atExit: false });
  assert.deepEqual(grantStageSettings(cfg), { sudoExe: "/usr/bin/sudo", natDns: false });
  const files = fileSettings(cfg);
  assert.equal(files.pidFile, "/run/fwknop/fwknopd.pid");
  assert.equal(files.digestFile, "/run/fwknop/digest.cache");
  assert.deepEqual(files.access, { file: "/etc/fwknop/access.conf" });
  assert.equal(fileSettings(load("ENABLE_DIGEST_PERSISTENCE N\n")).digestFile, undefined);
});
