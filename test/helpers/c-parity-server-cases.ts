/**
 * Server situations of issue 10, for fwknopd 2.6.10 and ours: config refusals with
 * --exit-parse-config, start-up paths, and packet verdicts from a capture file in test mode
 * (`-t --pcap-file`, `-C N` so 2.6.10 stops after the file: no firewall change, no socket).
 */
import { randomInt } from "node:crypto";
import { FKO_PROTOCOL_VERSION } from "../../src/protocol/constants.js";
import type { SpaMessage } from "../../src/protocol/message.js";
import { encodeSpa, type SpaKeys } from "../../src/protocol/spa.js";
import type { ParityCase } from "./c-parity-run.js";
import { pcapFile } from "./pcap-writer.js";

const KEYS: SpaKeys = {
  encKey: Buffer.from("testtest"),
  encMode: "CBC",
  hmacKey: Buffer.from("hmackey"),
  hmacType: "sha256",
};
const ACCESS = "SOURCE ANY\nKEY testtest\nHMAC_KEY hmackey\n";

function wire(over: Partial<SpaMessage> = {}, keys: SpaKeys = KEYS): Buffer {
  const msg: SpaMessage = {
    randomValue: `${randomInt(1e7, 9e7)}${randomInt(1e7, 9e7)}`,
    username: "root",
    timestamp: Math.floor(Date.now() / 1000),
    version: FKO_PROTOCOL_VERSION,
    messageType: 1,
    message: "192.0.2.7,tcp/22",
    ...over,
  };
  const r = encodeSpa(msg, keys, { digestType: "sha256", salt: Buffer.alloc(8, 3) });
  if (!r.ok) throw new Error(`test packet: ${r.detail}`);
  return Buffer.from(r.value.wire);
}

function capture(payloads: Buffer[]): Buffer {
  return pcapFile(
    payloads.map((payload, i) => ({
      srcIp: "192.0.2.7",
      dstIp: "192.0.2.1",
      srcPort: 40000 + i,
      dstPort: 62201,
      payload,
      time: Math.floor(Date.now() / 1000),
    })),
  );
}

const daemonArgs = ["-c", "{dir}/fwknopd.conf", "-a", "{dir}/access.conf"];
const files = ["-d", "{dir}/digest.cache", "-p", "{dir}/fwknopd.pid", "-f"];
const parse = [...daemonArgs, ...files, "--exit-parse-config"];

function config(
  situation: string,
  access: string,
  phrase: RegExp,
  item = "8",
  conf = "",
  exit = 1,
): ParityCase {
  return {
    item,
    situation,
    program: "fwknopd",
    args: parse,
    files: { "fwknopd.conf": conf, "access.conf": access },
    exit,
    phrase,
  };
}

/** A test-mode run over a capture of `payloads` with this access.conf. */
function knocks(
  situation: string,
  access: string,
  payloads: Buffer[],
  phrase: RegExp,
  conf = "",
): ParityCase {
  return {
    item: "8",
    situation,
    program: "fwknopd",
    args: [
      ...daemonArgs,
      ...files,
      "-t",
      "--pcap-file",
      "{dir}/k.pcap",
      "-C",
      String(payloads.length),
    ],
    files: { "fwknopd.conf": conf, "access.conf": access, "k.pcap": capture(payloads) },
    exit: 0,
    phrase,
  };
}

/**
 * SPA command messages, run for real (not -t): 2.6.10 refuses a command of 29 or more words
 * ("Error converting cmd str to argv") and runs one of 28. They enable the firewall, so the
 * test runs them in a network namespace.
 */
export function commandCases(): ParityCase[] {
  const access = `${ACCESS}ENABLE_CMD_EXEC Y\n`;
  const command = (words: number) =>
    wire({ messageType: 0, message: `192.0.2.7,/bin/true ${"w ".repeat(words - 1).trim()}` });
  const run = (situation: string, words: number, phrase: RegExp): ParityCase => ({
    item: "5",
    situation,
    program: "fwknopd",
    args: [...daemonArgs, ...files, "--pcap-file", "{dir}/k.pcap", "-C", "1"],
    files: {
      "fwknopd.conf": "FWKNOP_RUN_DIR {dir}/run\n",
      "access.conf": access,
      "k.pcap": capture([command(words)]),
    },
    exit: 0,
    phrase,
  });
  return [
    {
      item: "9",
      situation: "--fw-list -v -v shows each listing command",
      program: "fwknopd",
      args: [...daemonArgs, ...files, "--fw-list", "-v", "-v"],
      files: { "fwknopd.conf": "FWKNOP_RUN_DIR {dir}/run\n", "access.conf": ACCESS },
      exit: 0,
      phrase:
        /fw_dump_rules\(\) CMD: '\/usr\/sbin\/iptables -t filter -L FWKNOP_INPUT --line-numbers -n'/,
    },
    run("an SPA command of 31 words", 31, /Error converting cmd str to argv/),
    run("an SPA command of 28 words", 28, /^(?![\s\S]*Error converting cmd str)[\s\S]*true/),
  ];
}

export function serverCases(): ParityCase[] {
  return [
    // 5. limits
    config(
      "access.conf KEY of 1200 characters",
      `SOURCE ANY\nKEY ${"A".repeat(1200)}\n`,
      /Invalid access file entry/,
      "5",
    ),
    config(
      "access.conf KEY of 1000 characters",
      `SOURCE ANY\nKEY ${"A".repeat(1000)}\n`,
      /Configs parsed/,
      "5",
      "",
      0,
    ),
    config(
      "fwknopd.conf line of 1100 characters",
      ACCESS,
      /Invalid config file entry/,
      "5",
      `PCAP_FILTER ${"a".repeat(1100)}\n`,
      0,
    ),
    // 7. run directory
    {
      item: "7",
      situation: "FWKNOP_RUN_DIR names a regular file",
      program: "fwknopd",
      args: [...daemonArgs, ...files, "-t", "--pcap-file", "{dir}/k.pcap", "-C", "1"],
      files: {
        "fwknopd.conf": "FWKNOP_RUN_DIR {dir}/plain\n",
        "access.conf": ACCESS,
        plain: "",
        "k.pcap": capture([]),
      },
      exit: 1,
      phrase:
        /^(?![\s\S]*\n\s+at )[\s\S]*Specified Run directory: \{dir\}\/plain is NOT a directory/,
    },
    // 8. command line
    {
      item: "8",
      situation: "-l with a locale the system does not have",
      program: "fwknopd",
      args: [...parse.slice(0, -1), "-l", "nosuchlocale", "--exit-parse-config"],
      files: { "fwknopd.conf": "", "access.conf": ACCESS },
      exit: 0,
      phrase: /WARNING: Unable to set locale to 'nosuchlocale'\./,
    },
    {
      item: "8",
      situation: "-C 2147483648 (negative as a 32-bit number)",
      program: "fwknopd",
      args: [...parse.slice(0, -1), "-C", "2147483648", "--exit-parse-config"],
      files: { "fwknopd.conf": "", "access.conf": ACCESS },
      exit: 1,
      phrase: /invalid -C packet count limit '2147483648'/,
    },
    // 8. config phrases
    config(
      "SOURCE with a text mask",
      "SOURCE 1.1.1.1/aaaaaaaaaaaaaaaaaaaaa\nKEY k\n",
      /Invalid IP mask/,
    ),
    config("SOURCE 123.123.123.123/33", "SOURCE 123.123.123.123/33\nKEY k\n", /Invalid IP mask/),
    config("SOURCE 1.1.1.1/0", "SOURCE 1.1.1.1/0\nKEY k\n", /Invalid IP mask/),
    config("SOURCE 1.1.1.1/", "SOURCE 1.1.1.1/\nKEY k\n", /Missing mask/),
    config(
      "SOURCE 1.1.1.1/299.255.255.0",
      "SOURCE 1.1.1.1/299.255.255.0\nKEY k\n",
      /error parsing IP mask/,
    ),
    config("SOURCE that is a word", "SOURCE aaaaaaaaaaaaaaaaaaaaa\nKEY k\n", /Error parsing.*IP/),
    config(
      "OPEN_PORTS tcp",
      "SOURCE 1.1.1.1\nOPEN_PORTS tcp\nKEY k\n",
      /Parse error on access port entry: tcp/,
    ),
    config(
      "OPEN_PORTS icmp/22",
      "SOURCE 1.1.1.1\nOPEN_PORTS icmp/22\nKEY k\n",
      /Invalid protocol in access port entry/,
    ),
    config("a stanza without keys", "SOURCE 1.1.1.1\n", /No keys found for access stanza source/),
    config("no SOURCE line", "  DUMMY   fdsafds#\n", /Could not find valid SOURCE stanza/),
    config("KEY __CHANGEME__", "SOURCE any\nKEY __CHANGEME__\n", /KEY value is not properly set/),
    config("KEY_BASE64 not base64", "SOURCE any\nKEY_BASE64 %%%%%%%%\n", /look like base64/),
    config(
      "FW_ACCESS_TIMEOUT 999999999999",
      `${ACCESS}FW_ACCESS_TIMEOUT 999999999999\n`,
      /FW_ACCESS_TIMEOUT value not in range\./,
    ),
    config(
      "ENCRYPTION_MODE invalid",
      `${ACCESS}ENCRYPTION_MODE invalid\n`,
      /Unrecognized ENCRYPTION_MODE 'invalid'/,
    ),
    config(
      "CMD_EXEC_USER unknown",
      `${ACCESS}CMD_EXEC_USER nosuchuser_x\n`,
      /Unable to determine UID/,
    ),
    {
      ...config(
        "%include four levels deep",
        "SOURCE 1.1.1.1\nKEY k\n%include {dir}/i1.conf\n",
        /Refusing to go deeper than 3 levels/,
      ),
      files: {
        "fwknopd.conf": "",
        "access.conf": "SOURCE 1.1.1.1\nKEY k\n%include {dir}/i1.conf\n",
        "i1.conf": "SOURCE 1.1.1.2\nKEY k\n%include {dir}/i2.conf\n",
        "i2.conf": "SOURCE 1.1.1.3\nKEY k\n%include {dir}/i3.conf\n",
        "i3.conf": "SOURCE 1.1.1.4\nKEY k\n",
      },
    },
    config(
      "%include of itself",
      "SOURCE 1.1.1.1\nKEY k\n%include {dir}/access.conf\n",
      /Refusing to go deeper than 3 levels/,
    ),
    config(
      "%include of a missing file",
      `${ACCESS}%include {dir}/nope.conf\n`,
      /Access file: '\{dir\}\/nope\.conf' was not found/,
    ),
    {
      item: "8",
      situation: "-a names a missing file",
      program: "fwknopd",
      args: ["-c", "{dir}/fwknopd.conf", "-a", "{dir}/nope", ...files, "--exit-parse-config"],
      files: { "fwknopd.conf": "" },
      exit: 1,
      phrase: /Invalid access\.conf file path '\{dir\}\/nope'/,
    },
    {
      item: "8",
      situation: "--access-folder names a missing directory",
      program: "fwknopd",
      args: [
        "-c",
        "{dir}/fwknopd.conf",
        "--access-folder",
        "{dir}/nope",
        ...files,
        "--exit-parse-config",
      ],
      files: { "fwknopd.conf": "" },
      exit: 1,
      phrase: /Invalid access folder directory '\{dir\}\/nope'/,
    },
    {
      item: "8",
      situation: "--access-folder without *.conf files",
      program: "fwknopd",
      args: [...daemonArgs, "--access-folder", "{dir}/empty", ...files, "--exit-parse-config"],
      files: { "fwknopd.conf": "", "access.conf": ACCESS, "empty/": "" },
      exit: 1,
      phrase: /could not find any valid access\.conf stanzas/,
    },
    {
      item: "8",
      situation: "-a path of 1100 characters",
      program: "fwknopd",
      args: [
        "-c",
        "{dir}/fwknopd.conf",
        "-a",
        `{dir}/${"A".repeat(1100)}`,
        ...files,
        "--exit-parse-config",
      ],
      files: { "fwknopd.conf": "" },
      exit: 1,
      phrase: /Provided path is too long/,
    },
    // 8. packet verdicts (test mode, capture file)
    knocks(
      "a valid knock",
      ACCESS,
      [wire()],
      /--test mode enabled, skipping firewall manipulation/,
    ),
    knocks(
      "wrong HMAC key",
      ACCESS,
      [wire({}, { ...KEYS, hmacKey: Buffer.from("other") })],
      /Error creating fko context: Args contain invalid data: FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL/,
    ),
    knocks(
      "wrong encryption key",
      "SOURCE ANY\nKEY testtest\n",
      [wire({}, { encKey: Buffer.from("other"), encMode: "CBC" })],
      /Error creating fko context: Decryption failed or decrypted data is invalid/,
    ),
    knocks(
      "an expired stanza",
      `${ACCESS}ACCESS_EXPIRE 01/01/2001\n`,
      [wire()],
      /Access stanza has expired/,
    ),
    knocks(
      "a port that OPEN_PORTS does not list",
      `${ACCESS}OPEN_PORTS tcp/80\n`,
      [wire()],
      /One or more requested protocol\/ports was denied per access\.conf/,
    ),
    knocks(
      "-s packet with REQUIRE_SOURCE_ADDRESS",
      `${ACCESS}REQUIRE_SOURCE_ADDRESS Y\n`,
      [wire({ message: "0.0.0.0,tcp/22" })],
      /Got 0\.0\.0\.0 when valid source IP was required/,
    ),
    knocks(
      "username other than REQUIRE_USERNAME",
      `${ACCESS}REQUIRE_USERNAME alice\n`,
      [wire()],
      /Username in SPA data \(root\) does not match required username: alice/,
    ),
    knocks(
      "a command message without ENABLE_CMD_EXEC",
      ACCESS,
      [wire({ messageType: 0, message: "192.0.2.7,echo hi" })],
      /SPA Command messages are not allowed in the current configuration/,
    ),
    knocks(
      "a NAT message without forwarding",
      ACCESS,
      [wire({ messageType: 2, natAccess: "192.0.2.9,22" })],
      /SPA packet from 192\.0\.2\.7 requested NAT access, but is not enabled\/supported/,
    ),
    knocks(
      "-C 1: the packet count limit, then the shutdown lines",
      ACCESS,
      [wire()],
      /count limit of 1 reached[\s\S]*Gracefully leaving the fwknopd event loop\.[\s\S]*Shutting Down fwknopd\./,
    ),
    {
      // 2.6.10 says this at -v.
      ...knocks(
        "a packet to an address outside DESTINATION",
        `${ACCESS}DESTINATION 10.0.0.1\n`,
        [wire()],
        /SPA packet \(192\.0\.2\.7 -> 192\.0\.2\.1\) filtered by SOURCE and\/or DESTINATION criteria/,
        "ENABLE_DESTINATION_RULE Y\n",
      ),
      args: [...daemonArgs, ...files, "-t", "--pcap-file", "{dir}/k.pcap", "-C", "1", "-v"],
    },
    knocks(
      "a packet from outside every SOURCE",
      "SOURCE 10.9.9.9\nKEY testtest\nHMAC_KEY hmackey\n",
      [wire()],
      /No access data found for source IP: 192\.0\.2\.7/,
    ),
    knocks("the capture filter is named", ACCESS, [wire()], /PCAP filter is: 'udp port 62201'/),
    // 9. verbose output
    {
      ...knocks(
        "-v shows the packet data and its decoded fields",
        ACCESS,
        [wire()],
        /SPA Packet: '[^']+'[\s\S]*\[192\.0\.2\.7\] \(stanza #1\) SPA Decode \(res=0\):\s+SPA Field Values:/,
      ),
      item: "9",
      args: [...daemonArgs, ...files, "-t", "--pcap-file", "{dir}/k.pcap", "-C", "1", "-v"],
    },
    {
      ...knocks(
        "-v -v dumps the settings and every access stanza at start-up",
        ACCESS,
        [wire()],
        /Current fwknopd config settings:[\s\S]*Current fwknopd access settings:\s+SOURCE \(1\): {2}ANY/,
      ),
      item: "9",
      args: [...daemonArgs, ...files, "-t", "--pcap-file", "{dir}/k.pcap", "-C", "1", "-v", "-v"],
    },
    {
      ...config(
        "-v names every access file opened and each include directive",
        `${ACCESS}%include {dir}/inc.conf\n%include_folder {dir}/incdir\n`,
        /Processing include directive for file: '\{dir\}\/inc\.conf'[\s\S]*Opened access file: \{dir\}\/inc\.conf[\s\S]*Processing include_folder directive for: '\{dir\}\/incdir'/,
        "9",
        "",
        0,
      ),
      args: [...parse, "-v"],
      files: {
        "fwknopd.conf": "",
        "access.conf": `${ACCESS}%include {dir}/inc.conf\n%include_folder {dir}/incdir\n`,
        "inc.conf": "SOURCE 1.1.1.1\nKEY k\n",
        "incdir/": "",
      },
    },
  ];
}
