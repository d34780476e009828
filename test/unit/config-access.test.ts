import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  type AccessStanza,
  loadAccessConfig,
  parseAccessExpire,
} from "../../src/config/access-config.js";
import { loadServerConfig, type ServerConfig } from "../../src/config/server-config.js";
import { FwknopError } from "../../src/errors.js";

const work = mkdtempSync(join(tmpdir(), "fwknop-access-config-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

function file(text: string, name = `a${++seq}.conf`, mode = 0o600): string {
  const path = join(work, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function server(text = ""): ServerConfig {
  return loadServerConfig({ configFile: file(text, `s${++seq}.conf`) });
}

interface Loaded {
  stanzas: AccessStanza[];
  warnings: string[];
  infos: string[];
  path: string;
}

function load(text: string, conf = ""): Loaded {
  const warnings: string[] = [];
  const infos: string[] = [];
  const path = file(text);
  const stanzas = loadAccessConfig({
    file: path,
    server: server(conf),
    warn: (m) => warnings.push(m),
    info: (m) => infos.push(m),
  });
  return { stanzas, warnings, infos, path };
}

function one(text: string, conf = ""): AccessStanza {
  const { stanzas } = load(text, conf);
  assert.equal(stanzas.length, 1);
  const [s] = stanzas;
  assert.ok(s);
  return s;
}

function fails(text: string, re: RegExp, code?: string, conf = ""): void {
  assert.throws(
    () => load(text, conf),
    (e: unknown) => {
      assert.ok(e instanceof FwknopError, String(e));
      assert.match(e.message, re);
      if (code) assert.equal(e.code, code);
      return true;
    },
  );
}

const K = "KEY_BASE64 aGVsbG8gd29ybGQhIGhlbGxvIQ==\n";

describe("loadAccessConfig: stanza variables", () => {
  test("a minimal stanza gets upstream's defaults", () => {
    const { stanzas, path, infos } = load(`SOURCE ANY\nKEY secret\n`);
    assert.equal(stanzas.length, 1);
    const s = stanzas[0];
    assert.ok(s);
    assert.equal(s.index, 1);
    assert.equal(s.file, path);
    assert.equal(s.line, 1);
    assert.ok(s.source.any);
    assert.deepEqual(s.key, Buffer.from("secret"));
    assert.equal(s.hmacKey, undefined);
    assert.equal(s.hmacType, "sha256");
    assert.equal(s.encMode, "CBC");
    assert.equal(s.fwAccessTimeout, 30);
    assert.equal(s.maxFwTimeout, 300);
    for (const flag of [
      "enableCmdExec",
      "enableCmdSudoExec",
      "requireSourceAddress",
      "gpgAllowNoPw",
      "gpgRequireSig",
      "gpgDisableSig",
      "gpgIgnoreSigVerifyError",
      "forceMasquerade",
      "disableDnat",
      "forwardAll",
    ] as const) {
      assert.equal(s[flag], false, flag);
    }
    assert.deepEqual(infos, [
      "Warning: REQUIRE_SOURCE_ADDRESS not enabled for access stanza source: 'ANY'",
    ]);
  });

  test("addresses and ports", () => {
    const s = one(
      `SOURCE 192.0.2.0/24, 198.51.100.7\nDESTINATION 203.0.113.0/255.255.255.0\n${K}OPEN_PORTS tcp/22, udp/53\nRESTRICT_PORTS tcp/23\n`,
    );
    assert.ok(s.source.matches("192.0.2.9") && s.source.matches("198.51.100.7"));
    assert.ok(!s.source.matches("198.51.100.8"));
    assert.ok(s.destination?.matches("203.0.113.200"));
    assert.deepEqual(s.openPorts, [
      { proto: "tcp", port: 22 },
      { proto: "udp", port: 53 },
    ]);
    assert.deepEqual(s.restrictPorts, [{ proto: "tcp", port: 23 }]);
  });

  test("keys: literal, base64 (any bytes), HMAC, digest type, mode", () => {
    const s = one(
      "SOURCE ANY\nKEY_BASE64 AAEC/w==\nHMAC_KEY_BASE64 c2VjcmV0aG1hYw\nHMAC_DIGEST_TYPE SHA512\nENCRYPTION_MODE ctr\n",
    );
    assert.deepEqual(s.key, Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(s.hmacKey, Buffer.from("secrethmac"));
    assert.equal(s.hmacType, "sha512");
    assert.equal(s.encMode, "CTR");
    const t = one("SOURCE ANY\nKEY pass word\nHMAC_KEY hmac key\nHMAC_DIGEST_TYPE sha3_256\n");
    assert.deepEqual(t.key, Buffer.from("pass word"));
    assert.deepEqual(t.hmacKey, Buffer.from("hmac key"));
    assert.equal(t.hmacType, "sha3_256");
  });

  test("keys keep the file's exact bytes; UTF-8 paths work", () => {
    assert.deepEqual(one("SOURCE ANY\nKEY Grüße\n").key, Buffer.from("Grüße", "utf8"));
    const raw = Buffer.concat([
      Buffer.from("SOURCE ANY\nKEY a"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("\n"),
    ]);
    const path = join(work, "binary-key.conf");
    writeFileSync(path, raw, { mode: 0o600 });
    const [s] = loadAccessConfig({ file: path, server: server() });
    assert.deepEqual(s?.key, Buffer.from([0x61, 0xff, 0xfe]));
    const dir = join(work, "clés");
    mkdirSync(dir);
    writeFileSync(join(dir, "x.conf"), "SOURCE 10.0.0.1\nKEY x\n", { mode: 0o600 });
    assert.equal(load(`SOURCE ANY\n${K}%include ${dir}/x.conf\n`).stanzas.length, 2);
  });

  test("legacy mode cuts a long key to 16 bytes, with upstream's message", () => {
    const { stanzas, infos } = load(
      "SOURCE ANY\nENCRYPTION_MODE legacy\nKEY 12345678901234567890\n",
    );
    assert.deepEqual(stanzas[0]?.key, Buffer.from("1234567890123456"));
    assert.ok(
      infos.includes(
        "Warning: truncating encryption key in legacy mode to 16 bytes for access stanza source: 'ANY'",
      ),
    );
  });

  test("timeouts: 0 means default; MAX below FW_ACCESS is kept with a warning", () => {
    const a = one(`SOURCE ANY\n${K}FW_ACCESS_TIMEOUT 0\nMAX_FW_TIMEOUT 0\n`);
    assert.equal(a.fwAccessTimeout, 30);
    assert.equal(a.maxFwTimeout, 300);
    const { stanzas, infos } = load(`SOURCE ANY\n${K}FW_ACCESS_TIMEOUT 100\nMAX_FW_TIMEOUT 50\n`);
    assert.equal(stanzas[0]?.fwAccessTimeout, 100);
    assert.equal(stanzas[0]?.maxFwTimeout, 50);
    assert.ok(
      infos.includes(
        "Warning: MAX_FW_TIMEOUT < FW_ACCESS_TIMEOUT, honoring MAX_FW_TIMEOUT for stanza source: 'ANY' (#1)",
      ),
    );
    const max = one(`SOURCE ANY\n${K}FW_ACCESS_TIMEOUT 8388608\n`);
    assert.equal(max.fwAccessTimeout, 8388608);
  });

  test("commands and users", () => {
    const s = one(
      `SOURCE ANY\n${K}ENABLE_CMD_EXEC Y\nENABLE_CMD_SUDO_EXEC y\nCMD_EXEC_USER nobody\nCMD_SUDO_EXEC_USER root\nCMD_SUDO_EXEC_GROUP root\n`,
    );
    assert.equal(s.enableCmdExec, true);
    assert.equal(s.enableCmdSudoExec, true);
    assert.equal(s.cmdExecUser, "nobody");
    assert.equal(s.cmdExecUid, 65534);
    assert.equal(s.cmdExecGid, 65534);
    assert.equal(s.cmdSudoExecUser, "root");
    assert.equal(s.cmdSudoExecUid, 0);
    assert.equal(s.cmdSudoExecGroup, "root");
    assert.equal(s.cmdSudoExecGid, 0);
    // A group that is not also a user name is accepted too (upstream looks groups up as users).
    const g = one(`SOURCE ANY\n${K}CMD_EXEC_GROUP adm\n`);
    assert.equal(g.cmdExecGroup, "adm");
    assert.equal(typeof g.cmdExecGid, "number");
    fails(
      `SOURCE ANY\n${K}CMD_EXEC_USER no_such_user_fwknop\n`,
      /:3: Unable to determine UID for CMD_EXEC_USER/,
      "FWK_ERR_CONFIG_USER",
    );
    fails(
      `SOURCE ANY\n${K}CMD_SUDO_EXEC_GROUP no_such_group_fwknop\n`,
      /:3: Unable to determine GID for CMD_SUDO_EXEC_GROUP/,
    );
  });

  test("command cycles", () => {
    const s = one(
      `SOURCE ANY\n${K}CMD_CYCLE_OPEN /usr/sbin/ipset add x $SRC\nCMD_CYCLE_CLOSE /usr/sbin/ipset del x $SRC\nCMD_CYCLE_TIMER 60\n`,
    );
    assert.equal(s.cmdCycleOpen, "/usr/sbin/ipset add x $SRC");
    assert.equal(s.cmdCycleClose, "/usr/sbin/ipset del x $SRC");
    assert.equal(s.cmdCycleTimer, 60);
    assert.equal(
      one(`SOURCE ANY\n${K}CMD_CYCLE_OPEN /bin/true\nCMD_CYCLE_CLOSE NONE\n`).cmdCycleTimer,
      undefined,
    );
    fails(
      `SOURCE ANY\n${K}CMD_CYCLE_OPEN ${"x".repeat(256)}\nCMD_CYCLE_CLOSE NONE\n`,
      /:1: CMD_CYCLE_OPEN command is too long/,
    );
  });

  test("username, source address, colon names, REQUIRE_SOURCE synonym", () => {
    const s = one(`SOURCE: 10.0.0.0/8\n${K}REQUIRE_USERNAME: alice\nREQUIRE_SOURCE Y\n`);
    assert.equal(s.requireUsername, "alice");
    assert.equal(s.requireSourceAddress, true);
    assert.equal(one(`SOURCE ANY\n${K}REQUIRE_SOURCE_ADDRESS yes\n`).requireSourceAddress, true);
  });

  test("expiry: date at local midnight, epoch seconds", () => {
    const s = one(`SOURCE ANY\n${K}ACCESS_EXPIRE 12/31/2030\n`);
    assert.equal(s.accessExpire, new Date(2030, 11, 31).getTime() / 1000);
    assert.equal(one(`SOURCE ANY\n${K}ACCESS_EXPIRE_EPOCH 1900000000\n`).accessExpire, 1900000000);
    assert.equal(one(`SOURCE ANY\n${K}ACCESS_EXPIRE_EPOCH 0\n`).accessExpire, undefined);
    fails(`SOURCE ANY\n${K}ACCESS_EXPIRE_EPOCH -1\n`, /invalid epoch seconds value '-1'/);
  });

  test("parseAccessExpire follows sscanf + mktime", () => {
    const local = (y: number, m: number, d: number) => new Date(y, m, d).getTime() / 1000;
    assert.equal(parseAccessExpire("01/02/2030"), local(2030, 0, 2));
    assert.equal(parseAccessExpire("1/2/30"), local(2030, 0, 2));
    assert.equal(parseAccessExpire("13/45/2030"), local(2031, 1, 14));
    assert.equal(parseAccessExpire("00/15/2031"), local(2031, 0, 15));
    assert.equal(parseAccessExpire(" 3/ 4/2030"), local(2030, 2, 4));
    assert.equal(parseAccessExpire("2030-01-01"), undefined);
    assert.equal(parseAccessExpire("12/31"), undefined);
  });

  test("GPG: defaults from fwknopd.conf, signature rules", () => {
    const s = one(
      "SOURCE ANY\nGPG_DECRYPT_ID ABCD1234\nGPG_DECRYPT_PW pw\nGPG_REMOTE_ID 1234ABCD, 5678EF01\nGPG_FINGERPRINT_ID AAAA,BBBB\nGPG_EXE /usr/bin/gpg2\n",
      "GPG_HOME_DIR /var/lib/fwknop/gnupg\n",
    );
    assert.equal(s.gpgHomeDir, "/var/lib/fwknop/gnupg");
    assert.equal(s.gpgRequireSig, true);
    assert.deepEqual(s.gpgRemoteIds, ["1234ABCD", "5678EF01"]);
    assert.deepEqual(s.gpgFingerprintIds, ["AAAA", "BBBB"]);
    assert.equal(s.gpgExe, "/usr/bin/gpg2");
    assert.equal(s.gpgDecryptPw, "pw");
    const nopw = one(`SOURCE ANY\nGPG_HOME_DIR ${work}\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n`);
    assert.equal(nopw.gpgAllowNoPw, true);
    assert.equal(nopw.gpgDecryptPw, "");
    assert.equal(nopw.gpgRequireSig, false);
    assert.equal(nopw.gpgHomeDir, work);
    fails(
      "SOURCE ANY\nGPG_DECRYPT_PW pw\n",
      /:1: Must have either sig ID's or fingerprints/,
      "FWK_ERR_CONFIG_STANZA",
    );
  });

  test("NAT: FORCE_NAT, FORCE_SNAT, FORWARD_ALL implies FORCE_NAT 0.0.0.0 0", () => {
    const conf = "ENABLE_IPT_FORWARDING Y\n";
    const s = one(
      `SOURCE ANY\n${K}FORCE_NAT 192.168.10.2 2222\nFORCE_SNAT 192.168.10.1\nDISABLE_DNAT Y\n`,
      conf,
    );
    assert.deepEqual(s.forceNat, { ip: "192.168.10.2", port: 2222 });
    assert.equal(s.forceSnat, "192.168.10.1");
    assert.equal(s.disableDnat, true);
    const all = one(
      `SOURCE ANY\n${K}FORCE_MASQUERADE Y\nFORWARD_ALL Y\n`,
      "ENABLE_IPT_LOCAL_NAT Y\n",
    );
    assert.deepEqual(all.forceNat, { ip: "0.0.0.0", port: 0 });
    assert.equal(all.forceMasquerade, true);
    assert.equal(all.forwardAll, true);
    fails(
      `SOURCE ANY\n${K}FORCE_NAT 192.168.10.2 22\n`,
      /FORCE_NAT requires either ENABLE_IPT_FORWARDING or ENABLE_IPT_LOCAL_NAT/,
    );
    fails(
      `SOURCE ANY\n${K}FORCE_SNAT 192.168.10.1\n`,
      /FORCE_SNAT requires either ENABLE_NFT_FORWARDING or ENABLE_NFT_LOCAL_NAT/,
      "FWK_ERR_CONFIG_STANZA",
      "FIREWALL_TYPE nftables\nENABLE_IPT_FORWARDING Y\n",
    );
    // pf and ipfw grant plain access only (their 2.6.10 builds have no NAT).
    fails(
      `SOURCE ANY\n${K}FORCE_NAT 192.168.10.2 22\n`,
      /FORCE_NAT requires NAT, which FIREWALL_TYPE ipfw does not offer/,
      "FWK_ERR_CONFIG_STANZA",
      "FIREWALL_TYPE ipfw\n",
    );
  });

  test("unknown names warn; lines before SOURCE are ignored with a warning", () => {
    const { stanzas, warnings, path } = load(`OPEN_PORTS tcp/1\nSOURCE ANY\n${K}BOGUS x\n`);
    assert.equal(stanzas[0]?.openPorts, undefined);
    assert.deepEqual(warnings, [
      `${path}:1: 'OPEN_PORTS' before the first SOURCE line is ignored`,
      `Ignoring unknown access parameter: 'BOGUS' in ${path}:4`,
    ]);
  });

  test("several stanzas keep file order and get 1-based indexes", () => {
    const { stanzas } = load(
      `SOURCE 10.0.0.1\n${K}\nSOURCE 10.0.0.2\nKEY two\nSOURCE ANY\nKEY three\n`,
    );
    assert.deepEqual(
      stanzas.map((s) => [s.index, s.line, s.source.entries[0]?.text]),
      [
        [1, 1, "10.0.0.1"],
        [2, 4, "10.0.0.2"],
        [3, 6, "ANY"],
      ],
    );
  });
});

describe("loadAccessConfig: includes", () => {
  test("%include in place; later lines belong to the including file's stanza", () => {
    const inner = file("SOURCE 10.0.0.2\nKEY two\n");
    const { stanzas } = load(`SOURCE 10.0.0.1\n${K}%include ${inner}\nOPEN_PORTS tcp/1\n`);
    assert.deepEqual(
      stanzas.map((s) => [s.file, s.source.entries[0]?.text, s.openPorts]),
      [
        [stanzas[0]?.file, "10.0.0.1", [{ proto: "tcp", port: 1 }]],
        [inner, "10.0.0.2", undefined],
      ],
    );
  });

  test("three files deep is allowed, four is refused", () => {
    const c = file("SOURCE 10.0.0.3\nKEY three\n");
    const b = file(`SOURCE 10.0.0.2\nKEY two\n%include ${c}\n`);
    assert.equal(load(`SOURCE ANY\n${K}%include ${b}\n`).stanzas.length, 3);
    const d = file("SOURCE 10.0.0.4\nKEY four\n");
    writeFileSync(c, `SOURCE 10.0.0.3\nKEY three\n%include ${d}\n`);
    fails(
      `SOURCE ANY\n${K}%include ${b}\n`,
      new RegExp(`^${c}:3: Refusing to go deeper than 3 levels\\. Lost in Limbo: '${c}'$`),
      "FWK_ERR_CONFIG_INCLUDE",
    );
  });

  test("a missing include is fatal and names the directive's line", () => {
    fails(
      `SOURCE ANY\n${K}%include ${work}/none.conf\n`,
      /:3: Access file: '.*none\.conf' was not found\.$/,
      "FWK_ERR_CONFIG_FILE_MISSING",
    );
  });

  test("%include_folder reads *.conf* entries in name order, skips others", () => {
    const dir = join(work, "folder.d");
    mkdirSync(dir);
    writeFileSync(join(dir, "b.conf"), "SOURCE 10.0.0.2\nKEY b\n", { mode: 0o600 });
    writeFileSync(join(dir, "a.conf"), "SOURCE 10.0.0.1\nKEY a\n", { mode: 0o600 });
    // The extension runs from the last dot and only has to start with ".conf" (upstream rule).
    writeFileSync(join(dir, "c.conf~"), "SOURCE 10.0.0.3\nKEY c\n", { mode: 0o600 });
    writeFileSync(join(dir, "d.conf.bak"), "SOURCE 10.0.0.4\nKEY d\n", { mode: 0o600 });
    writeFileSync(join(dir, "notes.txt"), "SOURCE 10.0.0.9\nKEY n\n", { mode: 0o600 });
    mkdirSync(join(dir, "sub.conf"));
    const { stanzas } = load(`%include_folder ${dir}/\n`);
    assert.deepEqual(
      stanzas.map((s) => s.source.entries[0]?.text),
      ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    );
    const folderOnly = loadAccessConfig({ folder: dir, server: server() });
    assert.equal(folderOnly.length, 3);
    const viaServer = loadAccessConfig({ server: server(`ACCESS_FOLDER ${dir}\n`) });
    assert.equal(viaServer.length, 3);
  });

  test("a folder including itself is refused instead of looping", () => {
    const dir = join(work, "loop.d");
    mkdirSync(dir);
    writeFileSync(join(dir, "x.conf"), `SOURCE ANY\nKEY x\n%include_folder ${dir}\n`, {
      mode: 0o600,
    });
    assert.throws(
      () => loadAccessConfig({ folder: dir, server: server() }),
      (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_CONFIG_INCLUDE",
    );
  });

  test("%include_keys loads only key settings into the current stanza", () => {
    const keys = file("KEY_BASE64 Zm9vYmFy\nHMAC_KEY hh\nOPEN_PORTS tcp/1\n", "k1.keys");
    const { stanzas, infos } = load(`SOURCE 10.0.0.1\n%include_keys ${keys}\n`);
    assert.deepEqual(stanzas[0]?.key, Buffer.from("foobar"));
    assert.deepEqual(stanzas[0]?.hmacKey, Buffer.from("hh"));
    assert.equal(stanzas[0]?.openPorts, undefined);
    assert.ok(infos.includes(`Including key file: '${keys}'`));
    assert.ok(infos.includes(`${keys}:3: Ignoring invalid entry: 'OPEN_PORTS'`));
  });

  test("a stanza whose key file is missing or keyless is dropped, not fatal", () => {
    const empty = file("# no keys\n", "k2.keys");
    const { stanzas, warnings } = load(
      `SOURCE 10.0.0.1\n%include_keys ${empty}\nOPEN_PORTS tcp/9\nSOURCE 10.0.0.2\n%include_keys ${work}/gone.keys\nSOURCE 10.0.0.3\nKEY k\n`,
    );
    assert.deepEqual(
      stanzas.map((s) => [s.index, s.source.entries[0]?.text, s.openPorts]),
      [[1, "10.0.0.3", undefined]],
    );
    assert.match(
      warnings.join("\n"),
      /No keys found for access stanza source: '10\.0\.0\.1'; .*skipping stanza/,
    );
    assert.match(warnings.join("\n"), /Key file: '.*gone\.keys' was not found\./);
  });

  test("a key file is read up to its first bad line, like upstream", () => {
    const partial = file("KEY abc\nHMAC_KEY\nHMAC_KEY def\n", "k3.keys");
    const { stanzas, warnings } = load(`SOURCE 10.0.0.1\n%include_keys ${partial}\n`);
    assert.deepEqual(stanzas[0]?.key, Buffer.from("abc"));
    assert.equal(stanzas[0]?.hmacKey, undefined);
    assert.match(warnings.join("\n"), /k3\.keys:2: Invalid access file entry/);
    const placeholder = file("KEY __CHANGEME__\n", "k4.keys");
    const dropped = load(`SOURCE 10.0.0.1\n%include_keys ${placeholder}\nSOURCE ANY\nKEY k\n`);
    assert.deepEqual(
      dropped.stanzas.map((s) => s.source.entries[0]?.text),
      ["ANY"],
    );
    assert.match(dropped.warnings.join("\n"), /k4\.keys:1: KEY value is not properly set/);
  });

  test("world-readable key and access files are warned about", () => {
    const keys = file("KEY secretsecretsecret\n", "wide.keys", 0o644);
    const warnings: string[] = [];
    loadAccessConfig({
      file: file(`SOURCE ANY\n%include_keys ${keys}\n`, "wide.conf", 0o640),
      server: server(),
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(warnings, [
      `[-] file: ${join(work, "wide.conf")} permissions should only be user read/write (0600, -rw-------)`,
      `[-] file: ${keys} permissions should only be user read/write (0600, -rw-------)`,
    ]);
  });
});

describe("loadAccessConfig: Debian's shipped access.conf", () => {
  const shipped = "/etc/fwknop/access.conf";

  test("as shipped it stops at the __CHANGEME__ key, like fwknopd", () => {
    if (!existsSync(shipped)) assert.fail(`${shipped} (Debian fwknop-server) is required`);
    const lines = readFileSync(shipped, "latin1").split("\n");
    const keyLine = lines.findIndex((l) => l.startsWith("KEY_BASE64")) + 1;
    assert.ok(keyLine > 0);
    assert.throws(
      () => loadAccessConfig({ file: shipped, server: server() }),
      (e: unknown) =>
        e instanceof FwknopError &&
        e.code === "FWK_ERR_CONFIG_KEY" &&
        e.message ===
          `${shipped}:${keyLine}: KEY_BASE64 value is not properly set in stanza source 'ANY' (still __CHANGEME__)`,
    );
  });

  test("with generated keys filled in it loads one ANY stanza", () => {
    if (!existsSync(shipped)) assert.fail(`${shipped} (Debian fwknop-server) is required`);
    const text = readFileSync(shipped, "latin1")
      .replace(/^KEY_BASE64(\s+)__CHANGEME__/m, "KEY_BASE64$1c2VjcmV0IGtleSBmb3IgdGVzdHM=")
      .replace(/^HMAC_KEY_BASE64(\s+)__CHANGEME__/m, "HMAC_KEY_BASE64$1aG1hYyBrZXkgZm9yIHRlc3Rz");
    const { stanzas, warnings } = load(text);
    assert.equal(stanzas.length, 1);
    assert.ok(stanzas[0]?.source.any);
    assert.deepEqual(stanzas[0]?.key, Buffer.from("secret key for tests"));
    assert.deepEqual(stanzas[0]?.hmacKey, Buffer.from("hmac key for tests"));
    assert.deepEqual(warnings, []);
  });
});
