/**
 * fwknopd's command line (spec §13.1; seed man page), parsed with getopt_long semantics into
 * the action to run and the config overrides it carries. Paths given here are made absolute
 * against the start directory, so a daemon (which moves to /) still finds them on reload.
 */
import { type Stats, statSync } from "node:fs";
import { resolve } from "node:path";
import { FwknopError } from "../errors.js";
import { getoptLong, type OptionSpec } from "../sys/getopt.js";

export const DEFAULT_CONFIG_FILE = "/etc/fwknop/fwknopd.conf";

const TABLE: readonly OptionSpec[] = [
  { long: "access-file", short: "a", takesArg: true, id: "access-file" },
  { long: "access-folder", takesArg: true, id: "access-folder" },
  { long: "afl-fuzzing", short: "A", takesArg: false, id: "afl-fuzzing" },
  { long: "afl-pkt-file", takesArg: true, id: "afl-pkt-file" },
  { long: "config-file", short: "c", takesArg: true, id: "config-file" },
  { long: "packet-limit", short: "C", takesArg: true, id: "packet-limit" },
  { long: "digest-file", short: "d", takesArg: true, id: "digest-file" },
  { long: "dump-config", short: "D", takesArg: false, id: "dump-config" },
  { long: "dump-serv-err-codes", takesArg: false, id: "dump-serv-err-codes" },
  { long: "exit-parse-config", takesArg: false, id: "exit-parse-config" },
  { long: "exit-parse-digest-cache", takesArg: false, id: "exit-parse-digest-cache" },
  // Ours: explain how packets would be judged (docs/observability.md).
  { long: "explain", takesArg: true, id: "explain", extension: true },
  { long: "syslog-enable", takesArg: false, id: "syslog-enable" },
  { long: "foreground", short: "f", takesArg: false, id: "foreground" },
  { long: "fault-injection-tag", takesArg: true, id: "fault-injection-tag" },
  { long: "help", short: "h", takesArg: false, id: "help" },
  { long: "interface", short: "i", takesArg: true, id: "interface" },
  { long: "key-gen", takesArg: false, id: "key-gen" },
  { long: "key-gen-file", takesArg: true, id: "key-gen-file" },
  { long: "key-len", takesArg: true, id: "key-len" },
  { long: "hmac-key-len", takesArg: true, id: "hmac-key-len" },
  { long: "hmac-digest-type", takesArg: true, id: "hmac-digest-type" },
  { long: "kill", short: "K", takesArg: false, id: "kill" },
  { long: "fw-flush", takesArg: false, id: "fw-flush" },
  { long: "fw-list", takesArg: false, id: "fw-list" },
  { long: "fw-list-all", takesArg: false, id: "fw-list-all" },
  { long: "gpg-home-dir", takesArg: true, id: "gpg-home-dir" },
  { long: "gpg-exe", takesArg: true, id: "gpg-exe" },
  { long: "no-firewd-check-support", takesArg: false, id: "no-firewd-check-support" },
  { long: "no-ipt-check-support", takesArg: false, id: "no-ipt-check-support" },
  { long: "locale", short: "l", takesArg: true, id: "locale" },
  { long: "nfq-capture", short: "n", takesArg: false, id: "nfq-capture" },
  { long: "rotate-digest-cache", takesArg: false, id: "rotate-digest-cache" },
  { long: "override-config", short: "O", takesArg: true, id: "override-config" },
  { long: "pcap-file", takesArg: true, id: "pcap-file" },
  { long: "pcap-filter", short: "P", takesArg: true, id: "pcap-filter" },
  { long: "pcap-any-direction", takesArg: false, id: "pcap-any-direction" },
  { long: "pid-file", short: "p", takesArg: true, id: "pid-file" },
  { long: "run-dir", short: "r", takesArg: true, id: "run-dir" },
  { long: "restart", short: "R", takesArg: false, id: "restart" },
  { long: "status", short: "S", takesArg: false, id: "status" },
  { long: "sudo-exe", takesArg: true, id: "sudo-exe" },
  { long: "test", short: "t", takesArg: false, id: "test" },
  { long: "udp-server", short: "U", takesArg: false, id: "udp-server" },
  { long: "verbose", short: "v", takesArg: false, id: "verbose" },
  { long: "version", short: "V", takesArg: false, id: "version" },
];

/** The option table, also read by the man-page test (every option must be documented). */
export const DAEMON_OPTIONS: readonly OptionSpec[] = TABLE;

/** What the invocation asks for; the daemon itself is "run". */
export type DaemonAction =
  | "run"
  | "help"
  | "version"
  | "key-gen"
  | "kill"
  | "status"
  | "restart"
  | "dump-config"
  | "dump-err-codes"
  | "fw-list"
  | "fw-list-all"
  | "fw-flush"
  | "explain";

export interface DaemonOptions {
  action: DaemonAction;
  configFile: string;
  overrideFiles: string[];
  /** Values that override fwknopd.conf (config variable name → value). */
  cli: Record<string, string>;
  /**
   * Path options as typed (they are made absolute for use, since the daemon changes to `/`):
   * `-D` prints them as given, like 2.6.10 (variable name → text).
   */
  asGiven: Record<string, string>;
  foreground: boolean;
  verbose: number;
  syslogEnable: boolean;
  testMode: boolean;
  exitParseConfig: boolean;
  exitParseDigestCache: boolean;
  rotateDigestCache: boolean;
  packetLimit: number;
  noIptCheckSupport: boolean;
  keyGen: { file?: string; keyLen?: number; hmacKeyLen?: number; hmacDigestType?: string };
  /** Set by the background launcher in the re-spawned child (not an upstream option). */
  daemonChild: boolean;
  /** --explain FILE (`-` = stdin): wire strings or a pcap file to explain. */
  explainFile?: string;
}

/** Upstream-only build features we do not have; asking for them is a clear error. */
const UNSUPPORTED: Record<string, string> = {
  "afl-fuzzing": "AFL fuzzing mode is only in fwknopd builds made for AFL",
  "afl-pkt-file": "AFL fuzzing mode is only in fwknopd builds made for AFL",
  "fault-injection-tag": "fault injection is only in fwknopd builds made with libfiu",
  "nfq-capture": "NFQ capture is not supported by this fwknopd",
};

export const DAEMON_CHILD_FLAG = "--__daemon-child";

export function parseDaemonArgs(argv: readonly string[]): DaemonOptions {
  const daemonChild = argv.includes(DAEMON_CHILD_FLAG);
  const parsed = getoptLong(
    argv.filter((a) => a !== DAEMON_CHILD_FLAG),
    TABLE,
    "fwknopd",
  );
  if (!parsed.ok) throw new FwknopError("FWK_ERR_SERVER_USAGE", parsed.error);
  const [extra] = parsed.operands;
  if (extra !== undefined)
    throw new FwknopError("FWK_ERR_SERVER_USAGE", `fwknopd: unexpected argument '${extra}'`);
  const o: DaemonOptions = {
    action: "run",
    configFile: DEFAULT_CONFIG_FILE,
    overrideFiles: [],
    cli: {},
    asGiven: {},
    foreground: false,
    verbose: 0,
    syslogEnable: false,
    testMode: false,
    exitParseConfig: false,
    exitParseDigestCache: false,
    rotateDigestCache: false,
    packetLimit: 0,
    noIptCheckSupport: false,
    keyGen: {},
    daemonChild,
  };
  const actions = new Set<DaemonAction>();
  for (const { id: long, value = "" } of parsed.options) {
    const unsupported = UNSUPPORTED[long];
    if (unsupported)
      throw new FwknopError("FWK_ERR_SERVER_USAGE", `fwknopd: --${long}: ${unsupported}`);
    switch (long) {
      case "access-file":
        o.cli.ACCESS_FILE = resolve(value);
        o.asGiven.ACCESS_FILE = value;
        break;
      case "access-folder":
        o.cli.ACCESS_FOLDER = resolve(value);
        o.asGiven.ACCESS_FOLDER = value;
        break;
      case "config-file":
        o.configFile = resolve(value);
        o.asGiven.CONFIG_FILE = value;
        break;
      case "override-config":
        o.asGiven.OVERRIDE_CONFIG = value;
        o.overrideFiles.push(
          ...value
            .split(",")
            .filter((f) => f !== "")
            .map((f) => resolve(f)),
        );
        break;
      case "packet-limit":
        o.packetLimit = packetLimit(value);
        break;
      case "digest-file":
        o.cli.DIGEST_FILE = resolve(value);
        o.asGiven.DIGEST_FILE = value;
        break;
      case "interface":
        o.cli.PCAP_INTF = value;
        break;
      case "pcap-file":
        o.cli.PCAP_FILE = resolve(value);
        o.asGiven.PCAP_FILE = value;
        break;
      case "pcap-filter":
        o.cli.PCAP_FILTER = value;
        break;
      case "pid-file":
        o.cli.FWKNOP_PID_FILE = resolve(value);
        o.asGiven.FWKNOP_PID_FILE = value;
        break;
      case "run-dir":
        o.cli.FWKNOP_RUN_DIR = value;
        break;
      case "locale":
        o.cli.LOCALE = value;
        break;
      case "gpg-home-dir":
        o.cli.GPG_HOME_DIR = resolve(value);
        o.asGiven.GPG_HOME_DIR = value;
        break;
      case "gpg-exe":
        o.cli.GPG_EXE = resolve(value);
        o.asGiven.GPG_EXE = value;
        break;
      case "sudo-exe":
        o.cli.SUDO_EXE = resolve(value);
        o.asGiven.SUDO_EXE = value;
        break;
      case "udp-server":
        o.cli.ENABLE_UDP_SERVER = "Y";
        break;
      case "pcap-any-direction":
        o.cli.ENABLE_PCAP_ANY_DIRECTION = "Y";
        break;
      case "foreground":
        o.foreground = true;
        break;
      case "verbose":
        o.verbose++;
        break;
      case "syslog-enable":
        o.syslogEnable = true;
        break;
      case "test":
        o.testMode = true;
        break;
      case "exit-parse-config":
        o.exitParseConfig = true;
        o.foreground = true;
        break;
      case "exit-parse-digest-cache":
        o.exitParseDigestCache = true;
        o.foreground = true;
        break;
      case "rotate-digest-cache":
        o.rotateDigestCache = true;
        break;
      case "no-ipt-check-support":
      case "no-firewd-check-support":
        o.noIptCheckSupport = true;
        break;
      case "key-gen":
        actions.add("key-gen");
        break;
      case "key-gen-file":
        actions.add("key-gen");
        o.keyGen.file = value;
        break;
      case "key-len":
        o.keyGen.keyLen = ranged(long, value, 1, 128);
        break;
      case "hmac-key-len":
        o.keyGen.hmacKeyLen = ranged(long, value, 1, 128);
        break;
      case "hmac-digest-type":
        o.keyGen.hmacDigestType = value;
        break;
      case "help":
        actions.add("help");
        break;
      case "version":
        actions.add("version");
        break;
      case "kill":
        actions.add("kill");
        break;
      case "status":
        actions.add("status");
        break;
      case "restart":
        actions.add("restart");
        break;
      case "dump-config":
        actions.add("dump-config");
        break;
      case "dump-serv-err-codes":
        actions.add("dump-err-codes");
        break;
      case "fw-list":
        actions.add("fw-list");
        break;
      case "fw-list-all":
        actions.add("fw-list-all");
        break;
      case "fw-flush":
        actions.add("fw-flush");
        break;
      case "explain":
        actions.add("explain");
        o.explainFile = value;
        break;
    }
  }
  // Help and version win, as upstream; the process-control actions exclude each other.
  for (const first of ["help", "version", "key-gen"] as const) {
    if (actions.has(first)) {
      o.action = first;
      return o;
    }
  }
  const control = [...actions].filter((a) =>
    ["kill", "status", "restart", "dump-config"].includes(a),
  );
  if (control.length > 1)
    throw new FwknopError(
      "FWK_ERR_SERVER_USAGE",
      "fwknopd: The -D, -K, -R, and -S options are mutually exclusive.",
    );
  const [action] = actions;
  if (action) o.action = action;
  if (o.action !== "run") o.foreground = true;
  return o;
}

/**
 * -C as 2.6.10 takes it: digits whose value, cut to 32 bits, is a non-negative int (so
 * 2147483648 is refused and 99999999999 wraps to 1215752191), with its wording.
 */
function packetLimit(value: string): number {
  const refuse = (why: string) =>
    new FwknopError(
      "FWK_ERR_SERVER_USAGE",
      `fwknopd: [*] invalid -C packet count limit '${value}' (${why})`,
    );
  if (!/^\d+$/.test(value)) throw refuse("needs a non-negative integer");
  const wrapped = Number(BigInt(value) & 0xffffffffn);
  if (wrapped > 0x7fffffff) throw refuse("2.6.10 reads it as a negative 32-bit number");
  return wrapped;
}

function ranged(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new FwknopError(
      "FWK_ERR_SERVER_USAGE",
      `fwknopd: --${name} must be in the range ${min}-${max}, got '${value}'`,
    );
  return n;
}

export const USAGE = `
fwknopd server version VERSION (fwknop-ts)
Single Packet Authorization server

Usage: fwknopd [options]

 -a, --access-file       - Specify an alternate access.conf file.
     --access-folder     - Specify an access.conf folder. All .conf
                           files in this folder will be processed.
 -c, --config-file       - Specify an alternate configuration file.
 -f, --foreground        - Run fwknopd in the foreground (do not become
                           a background daemon).
 -i, --interface         - Specify interface to listen for incoming SPA
                           packets.
 -C, --packet-limit      - Limit the number of candidate SPA packets to
                           process and exit when this limit is reached.
 -d, --digest-file       - Specify an alternate digest.cache file.
 -D, --dump-config       - Dump the current fwknop configuration values.
 -K, --kill              - Kill the currently running fwknopd.
 -l, --locale            - Provide a locale setting other than the system
                           default.
 -O, --override-config   - Specify a file with configuration entries that will
                           override those in fwknopd.conf.
 -p, --pid-file          - Specify an alternate fwknopd.pid file.
 -P, --pcap-filter       - Specify a Berkeley packet filter statement to
                           override the PCAP_FILTER variable in fwknopd.conf.
 -R, --restart           - Force the currently running fwknopd to restart
                           (re-read its configuration; active access is kept).
     --rotate-digest-cache
                         - Rotate the digest cache file by renaming it to
                           '<name>-old', and starting a new one.
 -r, --run-dir           - Set path to local state run directory.
 -S, --status            - Display the status of any running fwknopd process.
 -t, --test              - Test mode, process SPA packets but do not make any
                           firewall modifications.
 -U, --udp-server        - Set UDP server mode.
 -v, --verbose           - Set verbose mode.
     --syslog-enable     - Allow messages to be sent to syslog even if the
                           foreground mode is set.
 -V, --version           - Print version number.
 -h, --help              - Print this usage message and exit.
 --dump-serv-err-codes   - List all server error codes.
 --exit-parse-config     - Parse config files and exit.
 --exit-parse-digest-cache - Parse and validate digest cache and exit.
 --explain FILE          - (fwknop-ts) Explain how each packet in FILE (wire
                           strings, one per line, or a pcap file; - for
                           stdin) would be judged; changes nothing.
 --pcap-file             - Read potential SPA packets from an existing pcap
                           file.
 --pcap-any-direction    - Process packets in both directions on the
                           sniffing interface.
     --fw-list           - List all firewall rules that fwknop has created
                           and then exit.
     --fw-list-all       - List all firewall rules in the complete policy,
                           including those that have nothing to do with
                           fwknop.
     --fw-flush          - Flush all firewall rules created by fwknop.
     --key-gen           - Generate SPA encryption and HMAC keys.
     --key-gen-file      - Write generated keys to the specified file.
     --key-len           - Length of the generated encryption key.
     --hmac-key-len      - Length of the generated HMAC key.
     --hmac-digest-type  - HMAC digest type for the generated HMAC key.
     --gpg-home-dir      - Specify the GPG home directory (this is normally
                           done in the access.conf file).
     --gpg-exe           - Specify the path to GPG (this is normally done in
                           the access.conf file).
     --sudo-exe          - Specify the path to sudo (the default path is
                           /usr/bin/sudo).
 --no-firewd-check-support
                         - Disable test for 'firewall-cmd ... -C' support.
 --no-ipt-check-support  - Disable test for 'iptables -C' support.
`;

/**
 * Paths the command line names for later use are checked up front, as upstream does, so a typo
 * fails the start (exit 1) instead of surfacing at the first packet.
 */
export function checkCommandLinePaths(o: DaemonOptions): void {
  const need: [option: string, path: string | undefined, kind: "dir" | "exe" | "file"][] = [
    ["--gpg-home-dir", o.cli.GPG_HOME_DIR, "dir"],
    ["--gpg-exe", o.cli.GPG_EXE, "exe"],
    ["--sudo-exe", o.cli.SUDO_EXE, "exe"],
    ["--pcap-file", o.cli.PCAP_FILE, "file"],
  ];
  for (const [option, path, kind] of need) {
    if (path === undefined) continue;
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      throw new FwknopError(
        "FWK_ERR_CONFIG_FILE_MISSING",
        `${option} '${path}': ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : (e as Error).message}`,
      );
    }
    const okKind =
      kind === "dir"
        ? st.isDirectory()
        : st.isFile() && (kind === "file" || (st.mode & 0o111) !== 0);
    if (!okKind) {
      const want = { dir: "a directory", exe: "an executable file", file: "a regular file" }[kind];
      throw new FwknopError("FWK_ERR_CONFIG_FILE_TYPE", `${option} '${path}' is not ${want}`);
    }
  }
}
