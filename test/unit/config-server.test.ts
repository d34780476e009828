import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  loadServerConfig,
  natEnabled,
  type ServerConfig,
  type ServerConfigOptions,
} from "../../src/config/server-config.js";
import { SERVER_VARIABLES, type ServerVariableName } from "../../src/config/server-variables.js";
import { FwknopError } from "../../src/errors.js";
import { FIREWALL_TYPES } from "../../src/firewall/backend-names.js";
import { backendNames } from "../../src/firewall/select.js";

const work = mkdtempSync(join(tmpdir(), "fwknop-server-config-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

/** Write a config file (mode 0600, so no permission warning) and return its path. */
function file(text: string, name = `c${++seq}.conf`, mode = 0o600): string {
  const path = join(work, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function load(
  text: string,
  more: Omit<ServerConfigOptions, "configFile"> = {},
): { cfg: ServerConfig; warnings: string[] } {
  const warnings: string[] = [];
  const cfg = loadServerConfig({ configFile: file(text), warn: (m) => warnings.push(m), ...more });
  return { cfg, warnings };
}

function fails(
  text: string,
  re: RegExp,
  code?: string,
  more: Omit<ServerConfigOptions, "configFile"> = {},
) {
  assert.throws(
    () => load(text, more),
    (e: unknown) => {
      assert.ok(e instanceof FwknopError);
      assert.match(e.message, re);
      if (code) assert.equal(e.code, code);
      return true;
    },
  );
}

/** `fwknopd -D` of Debian's fwknopd 2.6.10 with the shipped fwknopd.conf (values; order). */
const UPSTREAM_DUMP: [string, string | undefined][] = [
  ["CONFIG_FILE", "/etc/fwknop/fwknopd.conf"],
  // 2.6.10 prints the -c path here too (it parses the file twice); we leave it unset.
  ["OVERRIDE_CONFIG", undefined],
  ["PCAP_INTF", "eth0"],
  ["PCAP_FILE", undefined],
  ["ENABLE_PCAP_PROMISC", "N"],
  ["PCAP_FILTER", "udp port 62201"],
  ["PCAP_DISPATCH_COUNT", "100"],
  ["PCAP_LOOP_SLEEP", "100000"],
  ["ENABLE_PCAP_ANY_DIRECTION", undefined],
  ["EXIT_AT_INTF_DOWN", "Y"],
  ["MAX_SNIFF_BYTES", "1500"],
  ["ENABLE_SPA_PACKET_AGING", "Y"],
  ["MAX_SPA_PACKET_AGE", "120"],
  ["ENABLE_DIGEST_PERSISTENCE", "Y"],
  ["RULES_CHECK_THRESHOLD", "20"],
  ["CMD_EXEC_TIMEOUT", undefined],
  ["ENABLE_SPA_OVER_HTTP", "N"],
  ["ENABLE_TCP_SERVER", "N"],
  ["TCPSERV_PORT", "62201"],
  ["ENABLE_UDP_SERVER", "N"],
  ["UDPSERV_PORT", "62201"],
  ["UDPSERV_SELECT_TIMEOUT", "500000"],
  ["LOCALE", undefined],
  ["SYSLOG_IDENTITY", "fwknopd"],
  ["SYSLOG_FACILITY", "LOG_DAEMON"],
  ["ENABLE_X_FORWARDED_FOR", "N"],
  ["ENABLE_DESTINATION_RULE", "N"],
  ["ENABLE_RULE_PREPEND", "N"],
  ["ENABLE_NAT_DNS", "Y"],
  ["ENABLE_IPT_FORWARDING", "N"],
  ["ENABLE_IPT_LOCAL_NAT", "N"],
  ["ENABLE_IPT_SNAT", "N"],
  ["SNAT_TRANSLATE_IP", undefined],
  ["ENABLE_IPT_OUTPUT", "N"],
  ["FLUSH_IPT_AT_INIT", "Y"],
  ["FLUSH_IPT_AT_EXIT", "Y"],
  ["IPT_INPUT_ACCESS", "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1"],
  ["IPT_OUTPUT_ACCESS", "ACCEPT, filter, OUTPUT, 1, FWKNOP_OUTPUT, 1"],
  ["IPT_FORWARD_ACCESS", "ACCEPT, filter, FORWARD, 1, FWKNOP_FORWARD, 1"],
  ["IPT_DNAT_ACCESS", "DNAT, nat, PREROUTING, 1, FWKNOP_PREROUTING, 1"],
  ["IPT_SNAT_ACCESS", "SNAT, nat, POSTROUTING, 1, FWKNOP_POSTROUTING, 1"],
  ["IPT_MASQUERADE_ACCESS", "MASQUERADE, nat, POSTROUTING, 1, FWKNOP_MASQUERADE, 1"],
  ["ENABLE_IPT_COMMENT_CHECK", "Y"],
  ["FWKNOP_RUN_DIR", "/run/fwknop"],
  ["FWKNOP_CONF_DIR", "/etc/fwknop"],
  ["ACCESS_FILE", "/etc/fwknop/access.conf"],
  ["ACCESS_FOLDER", undefined],
  ["FWKNOP_PID_FILE", "/run/fwknop/fwknopd.pid"],
  ["DIGEST_FILE", "/run/fwknop/digest.cache"],
  ["GPG_HOME_DIR", "/root/.gnupg"],
  ["GPG_EXE", "/usr/bin/gpg"],
  ["SUDO_EXE", "/usr/bin/sudo"],
  ["FIREWALL_EXE", "/usr/sbin/iptables"],
  ["VERBOSE", undefined],
  ["FAULT_INJECTION_TAG", undefined],
];

function upstreamEntries(cfg: ServerConfig): [string, string | undefined][] {
  const upstream = new Set(SERVER_VARIABLES.filter((v) => v.upstream).map((v) => v.name));
  return cfg.entries().filter(([name]) => upstream.has(name));
}

describe("loadServerConfig: defaults and order", () => {
  test("an empty file gives fwknopd 2.6.10's defaults in its -D order", () => {
    const { cfg, warnings } = load("# nothing\n");
    const expected = UPSTREAM_DUMP.map(([n, v]): [string, string | undefined] =>
      n === "CONFIG_FILE" ? [n, cfg.get("CONFIG_FILE")] : [n, v],
    );
    assert.deepEqual(upstreamEntries(cfg), expected);
    assert.deepEqual(warnings, []);
    assert.equal(cfg.firewallType, "iptables");
    assert.equal(cfg.get("FIREWALL_TYPE"), "iptables");
    assert.equal(cfg.where("PCAP_INTF"), "default");
  });

  test("Debian's shipped /etc/fwknop/fwknopd.conf loads to the same values", () => {
    if (!existsSync("/etc/fwknop/fwknopd.conf")) {
      assert.fail("/etc/fwknop/fwknopd.conf (Debian fwknop-server) is required for this test");
    }
    const warnings: string[] = [];
    const cfg = loadServerConfig({
      configFile: "/etc/fwknop/fwknopd.conf",
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(upstreamEntries(cfg), UPSTREAM_DUMP);
    assert.deepEqual(
      warnings.filter((w) => !w.startsWith("[-] file:")),
      [],
    );
  });

  test("entries() lists every table variable once, in table order", () => {
    const { cfg } = load("");
    assert.deepEqual(
      cfg.entries().map(([n]) => n),
      SERVER_VARIABLES.map((v) => v.name),
    );
  });

  test("derived defaults follow FWKNOP_RUN_DIR, PCAP_FILE and FIREWALL_TYPE", () => {
    const a = load("FWKNOP_RUN_DIR /var/lib/fwk/;\nPCAP_FILE /tmp/x.pcap\n").cfg;
    assert.equal(a.get("FWKNOP_PID_FILE"), "/var/lib/fwk/fwknopd.pid");
    assert.equal(a.get("DIGEST_FILE"), "/var/lib/fwk/digest.cache");
    assert.equal(a.get("ENABLE_SPA_PACKET_AGING"), "N");
    const b = load("", { cli: { FWKNOP_RUN_DIR: "/srv/run" } }).cfg;
    assert.equal(b.get("FWKNOP_PID_FILE"), "/srv/run/fwknopd.pid");
    assert.equal(load("FIREWALL_TYPE nftables\n").cfg.get("FIREWALL_EXE"), "/usr/sbin/nft");
    assert.equal(load("FIREWALL_TYPE NFTables\n").cfg.firewallType, "nftables");
  });

  test("bool() is 'starts with Y/y', int() is the leading integer", () => {
    const { cfg } = load(
      "ENABLE_SPA_OVER_HTTP yes\nENABLE_TCP_SERVER No\nMAX_SPA_PACKET_AGE 90\nENABLE_NAT_DNS 1\n",
    );
    assert.equal(cfg.bool("ENABLE_SPA_OVER_HTTP"), true);
    assert.equal(cfg.bool("ENABLE_TCP_SERVER"), false);
    assert.equal(cfg.bool("ENABLE_NAT_DNS"), false);
    assert.equal(cfg.int("MAX_SPA_PACKET_AGE"), 90);
    assert.equal(cfg.int("VERBOSE"), 0);
    assert.equal(cfg.bool("PCAP_FILE"), false);
  });
});

describe("loadServerConfig: precedence", () => {
  test("file < -O files in order < command line < defaults", () => {
    const o1 = file("PCAP_INTF eth9;\nMAX_SNIFF_BYTES 99\nPCAP_FILTER udp port 1\n");
    const o2 = file("MAX_SNIFF_BYTES 77\n");
    const { cfg } = load("PCAP_INTF lo\nMAX_SNIFF_BYTES 5\nLOCALE C\n", {
      overrideFiles: [o1, o2],
      cli: { PCAP_FILTER: "udp port 2" },
    });
    assert.equal(cfg.get("PCAP_INTF"), "eth9");
    assert.equal(cfg.get("MAX_SNIFF_BYTES"), "77");
    assert.equal(cfg.where("MAX_SNIFF_BYTES"), `${o2}:1`);
    assert.equal(cfg.get("PCAP_FILTER"), "udp port 2");
    assert.equal(cfg.where("PCAP_FILTER"), "command line");
    assert.equal(cfg.get("LOCALE"), "C");
    assert.equal(cfg.get("OVERRIDE_CONFIG"), `${o1},${o2}`);
  });

  test("the last setting in a file wins", () => {
    assert.equal(load("MAX_SNIFF_BYTES 5\nMAX_SNIFF_BYTES 6\n").cfg.get("MAX_SNIFF_BYTES"), "6");
  });

  test("OVERRIDE_CONFIG in the main file is used when -O is absent", () => {
    const o = file("PCAP_INTF from-override\n");
    assert.equal(load(`OVERRIDE_CONFIG ${o}\n`).cfg.get("PCAP_INTF"), "from-override");
  });

  test("-O on the command line wins over OVERRIDE_CONFIG in the file", () => {
    const fromFile = file("PCAP_INTF from-file-override\n");
    const fromCli = file("PCAP_INTF from-cli-override\n");
    const { cfg } = load(`OVERRIDE_CONFIG ${fromFile}\n`, { overrideFiles: [fromCli] });
    assert.equal(cfg.get("PCAP_INTF"), "from-cli-override");
    assert.equal(cfg.get("OVERRIDE_CONFIG"), fromCli);
  });

  test("CONFIG_FILE is the -c path and cannot be changed from a file", () => {
    const { cfg, warnings } = load("CONFIG_FILE /elsewhere.conf\n");
    assert.notEqual(cfg.get("CONFIG_FILE"), "/elsewhere.conf");
    assert.match(warnings.join("\n"), /CONFIG_FILE cannot be changed/);
  });

  test("command-line names must be known variables", () => {
    fails("", /'NOT_A_VAR' is not a fwknopd\.conf variable/, "FWK_ERR_CONFIG_UNKNOWN", {
      cli: { NOT_A_VAR: "x" },
    });
  });
});

describe("loadServerConfig: $VAR expansion", () => {
  test("a leading $NAME takes the value set earlier, rest appended", () => {
    const { cfg } = load("FWKNOP_RUN_DIR /tmp/r\nFWKNOP_PID_FILE $FWKNOP_RUN_DIR/x.pid;\n");
    assert.equal(cfg.get("FWKNOP_PID_FILE"), "/tmp/r/x.pid");
  });

  test("only at the start, once", () => {
    const { cfg } = load(
      "FWKNOP_RUN_DIR /r\nSYSLOG_IDENTITY a$FWKNOP_RUN_DIR\nGPG_EXE $FWKNOP_RUN_DIR$FWKNOP_RUN_DIR\n",
    );
    assert.equal(cfg.get("SYSLOG_IDENTITY"), "a$FWKNOP_RUN_DIR");
    assert.equal(cfg.get("GPG_EXE"), "/r$FWKNOP_RUN_DIR");
  });

  test("an override file sees values of the main file", () => {
    const o = file("DIGEST_FILE $FWKNOP_RUN_DIR/d.cache\n");
    const { cfg } = load("FWKNOP_RUN_DIR /srv\n", { overrideFiles: [o] });
    assert.equal(cfg.get("DIGEST_FILE"), "/srv/d.cache");
  });

  test("defaults and command-line values are not visible yet: line ignored with a warning", () => {
    const { cfg, warnings } = load("FWKNOP_PID_FILE $FWKNOP_RUN_DIR/x.pid\n", {
      cli: { FWKNOP_RUN_DIR: "/cli" },
    });
    assert.equal(cfg.get("FWKNOP_PID_FILE"), "/cli/fwknopd.pid");
    assert.match(warnings[0] ?? "", /:1: Invalid embedded variable in: '\$FWKNOP_RUN_DIR\/x\.pid'/);
  });

  test("lower-case after $ is not a variable", () => {
    assert.equal(load("LOCALE $lang\n").cfg.get("LOCALE"), "$lang");
  });
});

describe("loadServerConfig: warnings", () => {
  test("unknown names, other builds' NFQ/DBM names, missing values", () => {
    const { cfg, warnings } = load("FOO bar\nNFQ_TABLE mangle\nPCAP_INTF\n  # note\nLOCALE C\n");
    const path = cfg.get("CONFIG_FILE");
    assert.deepEqual(warnings, [
      `Ignoring unknown configuration parameter: 'FOO' in ${path}:1`,
      `Ignoring unknown configuration parameter: 'NFQ_TABLE' in ${path}:2`,
      `${path}:3: Invalid config file entry (no value): 'PCAP_INTF'`,
      `Ignoring unknown configuration parameter: '#' in ${path}:4`,
    ]);
  });

  test("every firewall family is known; undeclared reserved NFT_* names are kept", () => {
    const { cfg, warnings } = load(
      "FIREWD_INPUT_ACCESS junk-not-checked\nIPFW_MAX_RULES 0\nPF_ANCHOR_NAME a\nNFT_TABLE fw\nNFT_LATER x\nENABLE_NFT_LATER Y\n",
    );
    assert.deepEqual(warnings, []);
    assert.equal(cfg.get("NFT_TABLE"), "fw");
    assert.equal(
      cfg.entries().filter(([n]) => n === "NFT_TABLE").length,
      1,
      "declared: listed once",
    );
    assert.deepEqual(cfg.entries().slice(-2), [
      ["NFT_LATER", "x"],
      ["ENABLE_NFT_LATER", "Y"],
    ]);
  });

  test("permission and ownership warnings as upstream, not fatal", () => {
    const path = file("LOCALE C\n", "wide.conf", 0o644);
    const warnings: string[] = [];
    loadServerConfig({ configFile: path, warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [
      `[-] file: ${path} permissions should only be user read/write (0600, -rw-------)`,
    ]);
  });

  test("trailing text after an integer is read like strtol, with a warning", () => {
    const { cfg, warnings } = load("MAX_SNIFF_BYTES 12x\n");
    assert.equal(cfg.int("MAX_SNIFF_BYTES"), 12);
    assert.match(warnings.join(), /MAX_SNIFF_BYTES value '12x' read as 12/);
  });
});

describe("loadServerConfig: fatal checks", () => {
  test("every range, at and beyond both ends", () => {
    for (const v of SERVER_VARIABLES) {
      if (!v.range || (v.firewall !== undefined && v.firewall !== "iptables")) continue;
      const [lo, hi] = v.range;
      const name = v.name as ServerVariableName;
      assert.equal(load(`${v.name} ${lo}\n`).cfg.int(name), lo);
      assert.equal(load(`${v.name} ${hi}\n`).cfg.int(name), hi);
      for (const bad of [lo - 1, hi + 1]) {
        fails(
          `${v.name} ${bad}\n`,
          new RegExp(`:1: var ${v.name} value '${bad}' not in the range ${lo}-${hi}$`),
          "FWK_ERR_CONFIG_RANGE",
        );
      }
    }
  });

  test("a range error on the command line says so", () => {
    fails("", /^command line: var UDPSERV_PORT value '0'/, "FWK_ERR_CONFIG_RANGE", {
      cli: { UDPSERV_PORT: "0" },
    });
  });

  test("ipfw/pf ranges are not checked on Linux backends", () => {
    assert.equal(load("IPFW_ACTIVE_SET_NUM 999\n").cfg.get("IPFW_ACTIVE_SET_NUM"), "999");
  });

  test("SYSLOG_FACILITY", () => {
    for (const ok of ["LOG_DAEMON", "log_local0", "LOG_LOCAL7"]) {
      assert.equal(load(`SYSLOG_FACILITY ${ok}\n`).cfg.get("SYSLOG_FACILITY"), ok);
    }
    fails("SYSLOG_FACILITY LOG_LOCAL8\n", /:1: Invalid SYSLOG_FACILITY setting 'LOG_LOCAL8'/);
  });

  test("SNAT_TRANSLATE_IP is checked only with SNAT enabled", () => {
    assert.equal(load("SNAT_TRANSLATE_IP 1.2.3\n").cfg.get("SNAT_TRANSLATE_IP"), "1.2.3");
    fails(
      "ENABLE_IPT_SNAT Y\nSNAT_TRANSLATE_IP 1.2.3\n",
      /:2: Invalid IPv4 addr for SNAT_TRANSLATE_IP '1\.2\.3'/,
    );
    assert.ok(load("ENABLE_IPT_SNAT Y\nSNAT_TRANSLATE_IP 192.0.2.1\n").cfg.bool("ENABLE_IPT_SNAT"));
  });

  test("chain specs: shape always, positions only for chains in use", () => {
    fails(
      "IPT_OUTPUT_ACCESS A, filter, OUTPUT, 1, FWKNOP-OUT, 1\n",
      /:1: Invalid IPT_OUTPUT_ACCESS specification/,
      "FWK_ERR_CONFIG_CHAIN_SPEC",
    );
    const unused = "IPT_OUTPUT_ACCESS ACCEPT, filter, OUTPUT, 99999, FWKNOP_OUTPUT, 1\n";
    assert.ok(load(unused).cfg);
    fails(`ENABLE_IPT_OUTPUT Y\n${unused}`, /invalid jump rule position '99999'/);
    fails(
      "ENABLE_IPT_LOCAL_NAT Y\nIPT_DNAT_ACCESS DNAT, nat, PREROUTING, 1, FWKNOP_PREROUTING, 70000\n",
      /invalid to_chain rule position/,
    );
    fails(
      "ENABLE_IPT_FORWARDING Y\nENABLE_IPT_SNAT Y\nIPT_SNAT_ACCESS SNAT, nat, POSTROUTING, 1, , 1\n",
      /To_chain is empty/,
    );
    fails(
      "FIREWALL_TYPE nftables\nNFT_INPUT_ACCESS ACCEPT, filter, INPUT\n",
      /:2: Invalid NFT_INPUT_ACCESS specification/,
    );
  });

  test("FWKNOP_RUN_DIR must be absolute; FIREWALL_TYPE must be a backend", () => {
    fails(
      "FWKNOP_RUN_DIR run\n",
      /:1: FWKNOP_RUN_DIR path 'run' is not absolute\./,
      "FWK_ERR_CONFIG_VALUE",
    );
    fails(
      "FIREWALL_TYPE ipchains\n",
      new RegExp(`:1: FIREWALL_TYPE 'ipchains' is not one of ${FIREWALL_TYPES.join(", ")}$`),
    );
  });

  test("FIREWALL_TYPE accepts exactly the backends select.ts registers", () => {
    for (const name of ["iptables", "nftables", "firewalld", "pf", "ipfw"]) {
      const registered = backendNames().includes(name);
      if (registered) assert.equal(load(`FIREWALL_TYPE ${name}\n`).cfg.firewallType, name);
      else fails(`FIREWALL_TYPE ${name}\n`, new RegExp(`FIREWALL_TYPE '${name}' is not one of`));
    }
    assert.deepEqual(backendNames(), [...FIREWALL_TYPES]);
  });

  test("missing files and directories", () => {
    assert.throws(
      () => loadServerConfig({ configFile: join(work, "absent.conf") }),
      (e: unknown) =>
        e instanceof FwknopError &&
        e.code === "FWK_ERR_CONFIG_FILE_MISSING" &&
        e.message === `Config file: '${join(work, "absent.conf")}' was not found.`,
    );
    const dir = join(work, "a-dir.conf");
    mkdirSync(dir, { recursive: true });
    assert.throws(
      () => loadServerConfig({ configFile: dir }),
      (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_CONFIG_FILE_TYPE",
    );
    fails(
      `OVERRIDE_CONFIG ${join(work, "nope.conf")}\n`,
      /:1: Config file: '.*nope\.conf' was not found\.$/,
    );
    fails("", /^Config file: '.*nope2\.conf' was not found\.$/, "FWK_ERR_CONFIG_FILE_MISSING", {
      overrideFiles: [join(work, "nope2.conf")],
    });
  });
});

describe("natEnabled", () => {
  test("uses the selected backend's family", () => {
    assert.equal(natEnabled(load("").cfg), false);
    assert.equal(natEnabled(load("ENABLE_IPT_FORWARDING Y\n").cfg), true);
    assert.equal(natEnabled(load("ENABLE_IPT_LOCAL_NAT Y\n").cfg), true);
    assert.equal(natEnabled(load("FIREWALL_TYPE nftables\nENABLE_IPT_FORWARDING Y\n").cfg), false);
    assert.equal(natEnabled(load("FIREWALL_TYPE nftables\nENABLE_NFT_LOCAL_NAT Y\n").cfg), true);
    assert.equal(natEnabled(load("FIREWALL_TYPE nftables\nENABLE_NFT_FORWARDING Y\n").cfg), true);
  });
});
