/**
 * Every `fwknop` 2.6.10 command-line option (spec §13.2), plus our `--ssh-proxy`, and what each
 * does to the run. Options with an rc twin name it in `rcVar`: their value goes through the rc
 * reader (one validation for both sources) and `--save-rc-stanza` writes that variable.
 */
import { parseDigestName, parseEncryptionMode } from "../protocol/constants.js";
import type { OptionSpec } from "../sys/getopt.js";
import {
  type ClientSettings,
  keyBytes,
  parseProtocol,
  parseTimeOffset,
  type SettingFlag,
  type SettingText,
  SPA_PROTOCOLS,
} from "./settings.js";

/** Command-line-only state: what to do, as opposed to how to build the packet. */
export interface RunRequest {
  settings: ClientSettings;
  /** rc variables given on the command line, written by --save-rc-stanza. */
  given: Set<string>;
  namedConfig?: string;
  rcFile?: string;
  noRcFile: boolean;
  noHomeDir: boolean;
  saveRcStanza: boolean;
  forceStanza: boolean;
  stanzaList: boolean;
  lastCmd: boolean;
  showLast: boolean;
  saveArgsFile?: string;
  test: boolean;
  help: boolean;
  version: boolean;
  keyGen: boolean;
  keyGenFile?: string;
  keyLen?: number;
  hmacKeyLen?: number;
  serverCmd?: string;
  savePacketFile?: string;
  savePacketAppend: boolean;
  httpProxy?: string;
  icmpType: number;
  icmpCode: number;
  keyFromStdin: boolean;
  keyFd?: number;
  /** `host:port` of --ssh-proxy. */
  sshProxy?: string;
  /** --verify[=SECONDS]: after the knock, wait this long for the requested TCP port(s). */
  verifySeconds?: number;
}

export function newRunRequest(settings: ClientSettings): RunRequest {
  return {
    settings,
    given: new Set(),
    noRcFile: false,
    noHomeDir: false,
    saveRcStanza: false,
    forceStanza: false,
    stanzaList: false,
    lastCmd: false,
    showLast: false,
    test: false,
    help: false,
    version: false,
    keyGen: false,
    savePacketAppend: false,
    icmpType: 0,
    icmpCode: 0,
    keyFromStdin: false,
  };
}

/** Applies an option's value; returns an error line, or undefined when accepted. */
type Apply = (r: RunRequest, value: string, spelling: string) => string | undefined;

interface ClientOption extends OptionSpec {
  /** Applied before the rc file is read (it decides which rc file and stanza to read). */
  readonly early?: boolean;
  readonly rcVar?: string;
  /** Further rc variables this option sets (the HMAC key options turn on USE_HMAC). */
  readonly alsoSets?: readonly string[];
  readonly apply: Apply;
}

/** Integers on the command line: digits only, then upstream's range message. */
export function cliInt(value: string, min: number, max: number): number | string {
  if (!/^\s*[+-]?\d+$/.test(value)) return `[*] Value '${value}' is not a number`;
  const n = Number(value.trim());
  if (n < min || n > max) return `[*] Value ${n} out of range [(${min})-(${max})]`;
  return n;
}

function intOption(min: number, max: number, set: (r: RunRequest, n: number) => void): Apply {
  return (r, v) => {
    const n = cliInt(v, min, max);
    if (typeof n === "string") return n;
    set(r, n);
    return undefined;
  };
}

/** --verify without a value: long enough for a loaded server to run iptables. */
export const DEFAULT_VERIFY_SECONDS = 10;

const DIGEST_CHOICES = "{md5,sha1,sha256,sha384,sha512,sha3_256,sha3_512}";

type RequestText =
  | "savePacketFile"
  | "serverCmd"
  | "saveArgsFile"
  | "namedConfig"
  | "rcFile"
  | "sshProxy";
type RequestFlag =
  | "savePacketAppend"
  | "saveRcStanza"
  | "forceStanza"
  | "stanzaList"
  | "help"
  | "keyGen"
  | "lastCmd"
  | "noHomeDir"
  | "noRcFile"
  | "showLast"
  | "keyFromStdin"
  | "test"
  | "version";
type Then = (r: RunRequest) => void;

const text =
  (key: SettingText, then?: Then): Apply =>
  (r, v) => {
    r.settings[key] = v;
    then?.(r);
    return undefined;
  };
const on =
  (key: SettingFlag, then?: Then): Apply =>
  (r) => {
    r.settings[key] = true;
    then?.(r);
    return undefined;
  };
const reqText =
  (key: RequestText): Apply =>
  (r, v) => {
    r[key] = v;
    return undefined;
  };
const reqOn =
  (key: RequestFlag): Apply =>
  (r) => {
    r[key] = true;
    return undefined;
  };
const gpg: Then = (r) => {
  r.settings.useGpg = true;
};
const hmac: Then = (r) => {
  r.settings.useHmac = true;
};
const resolve: Then = (r) => {
  r.settings.resolveIp = true;
};

const keyText =
  (key: "key" | "hmacKey", then?: Then): Apply =>
  (r, v) => {
    r.settings[key] = { form: "text", text: v };
    then?.(r);
    return undefined;
  };
const keyB64 =
  (key: "key" | "hmacKey", what: string, then?: Then): Apply =>
  (r, v) => {
    const k = { form: "base64", text: v } as const;
    if (!keyBytes(k)) {
      return `Base64 encoded ${what} argument '${v}' doesn't look like base64-encoded data.`;
    }
    r.settings[key] = k;
    then?.(r);
    return undefined;
  };
const digest =
  (key: "digestType" | "hmacType", label: string, then?: Then): Apply =>
  (r, v) => {
    const d = parseDigestName(v);
    if (!d) return `* Invalid ${label}: ${v}, use ${DIGEST_CHOICES}`;
    r.settings[key] = d;
    then?.(r);
    return undefined;
  };
const ranged =
  (
    min: number,
    max: number,
    message: (v: string) => string,
    set: (r: RunRequest, n: number) => void,
  ): Apply =>
  (r, v) => {
    const n = cliInt(v, min, max);
    if (typeof n === "string") return message(v);
    set(r, n);
    return undefined;
  };
const timeOffset =
  (sign: 1 | -1): Apply =>
  (r, v) => {
    const n = parseTimeOffset(v);
    if (n === undefined) return `Invalid time offset: '${v}'`;
    r.settings.timeOffset = sign * n;
    return undefined;
  };

const allowIp: Apply = (r, v) => {
  r.settings.allowIp = v;
  r.settings.sourceIp = false;
  r.settings.resolveIp = false;
  return undefined;
};
const sourceIp: Apply = (r) => {
  r.settings.sourceIp = true;
  r.settings.resolveIp = false;
  delete r.settings.allowIp;
  return undefined;
};
const encMode: Apply = (r, v) => {
  const m = parseEncryptionMode(v);
  if (!m) return `* Invalid encryption mode: ${v}, use {CBC,CTR,legacy,Asymmetric}`;
  r.settings.encMode = m;
  return undefined;
};
const proto: Apply = (r, v) => {
  const p = parseProtocol(v);
  if (!p) return `Unrecognized protocol: ${v} (use one of ${SPA_PROTOCOLS.join(", ")})`;
  r.settings.proto = p;
  return undefined;
};
const httpProxy: Apply = (r, v) => {
  r.httpProxy = v;
  r.settings.proto = "http";
  return undefined;
};
const keyGenFile: Apply = (r, v) => {
  r.keyGen = true;
  r.keyGenFile = v;
  return undefined;
};

type Extra = Partial<Pick<ClientOption, "early" | "rcVar" | "alsoSets" | "id">>;
const EARLY: Extra = { early: true };
const USE_HMAC = ["USE_HMAC"];
const ARG = true;
const FLAG = false;

function opt(long: string, short: string, takesArg: boolean, apply: Apply, extra: Extra = {}) {
  const o: ClientOption = { long, id: long, takesArg, apply, ...extra };
  return short === "" ? o : { ...o, short };
}

export const CLIENT_OPTIONS: readonly ClientOption[] = [
  opt("allow-ip", "a", ARG, allowIp, { rcVar: "ALLOW_IP" }),
  opt("access", "A", ARG, text("access"), { rcVar: "ACCESS" }),
  opt("save-packet-append", "b", FLAG, reqOn("savePacketAppend")),
  opt("save-packet", "B", ARG, reqText("savePacketFile")),
  opt("save-rc-stanza", "", FLAG, reqOn("saveRcStanza"), EARLY),
  opt("force-stanza", "", FLAG, reqOn("forceStanza"), EARLY),
  opt("stanza-list", "", FLAG, reqOn("stanzaList"), EARLY),
  opt("no-save-args", "", FLAG, on("noSaveArgs"), { rcVar: "NO_SAVE_ARGS" }),
  opt("server-cmd", "C", ARG, reqText("serverCmd")),
  opt("digest-type", "m", ARG, digest("digestType", "digest type"), { rcVar: "DIGEST_TYPE" }),
  opt("destination", "D", ARG, text("destination"), { rcVar: "SPA_SERVER" }),
  opt("save-args-file", "E", ARG, reqText("saveArgsFile"), EARLY),
  opt("encryption-mode", "M", ARG, encMode, { rcVar: "ENCRYPTION_MODE" }),
  opt(
    "fd",
    "",
    ARG,
    ranged(
      0,
      2147483647,
      // 2.6.10's wording (its upper bound prints as -1); users grep "Value … out of range".
      (v) => `[*] Value ${v} out of range [(0)-(-1)]`,
      (r, n) => {
        r.keyFd = n;
      },
    ),
  ),
  opt(
    "fw-timeout",
    "f",
    ARG,
    ranged(
      0,
      131072,
      () => "--fw-timeout must be within [0-131072]",
      (r, n) => {
        r.settings.fwTimeout = n;
      },
    ),
    { rcVar: "FW_TIMEOUT" },
  ),
  opt("fault-injection-tag", "", ARG, () => "fwknop not compiled with fault injection support."),
  opt("gpg-encryption", "g", FLAG, on("useGpg"), { rcVar: "USE_GPG" }),
  opt("gpg-recipient-key", "", ARG, text("gpgRecipient", gpg), { rcVar: "GPG_RECIPIENT" }),
  opt("gpg-signer-key", "", ARG, text("gpgSigner", gpg), { rcVar: "GPG_SIGNER" }),
  opt("gpg-home-dir", "", ARG, text("gpgHomeDir", gpg), { rcVar: "GPG_HOMEDIR" }),
  opt("gpg-exe", "", ARG, text("gpgExe", gpg), { rcVar: "GPG_EXE" }),
  opt("gpg-agent", "", FLAG, on("gpgAgent", gpg), { rcVar: "USE_GPG_AGENT" }),
  opt("gpg-no-signing-pw", "", FLAG, on("gpgNoSigningPw", gpg), { rcVar: "GPG_NO_SIGNING_PW" }),
  opt("get-key", "G", ARG, text("keyFile"), { rcVar: "KEY_FILE" }),
  opt("get-hmac-key", "", ARG, text("hmacKeyFile", hmac), {
    rcVar: "HMAC_KEY_FILE",
    alsoSets: USE_HMAC,
  }),
  opt("help", "h", FLAG, reqOn("help"), EARLY),
  opt("http-proxy", "H", ARG, httpProxy),
  opt("key-gen", "k", FLAG, reqOn("keyGen")),
  opt("key-gen-file", "K", ARG, keyGenFile),
  opt("key-rijndael", "", ARG, keyText("key"), { rcVar: "KEY" }),
  opt("key-base64-rijndael", "", ARG, keyB64("key", "Rijndael"), { rcVar: "KEY_BASE64" }),
  opt("key-base64-hmac", "", ARG, keyB64("hmacKey", "HMAC", hmac), {
    rcVar: "HMAC_KEY_BASE64",
    alsoSets: USE_HMAC,
  }),
  opt("key-hmac", "", ARG, keyText("hmacKey", hmac), { rcVar: "HMAC_KEY", alsoSets: USE_HMAC }),
  opt(
    "key-len",
    "",
    ARG,
    ranged(
      1,
      128,
      (v) => `Invalid key length '${v}', must be in [1-128]`,
      (r, n) => {
        r.keyLen = n;
      },
    ),
  ),
  opt(
    "hmac-key-len",
    "",
    ARG,
    ranged(
      1,
      128,
      (v) => `Invalid hmac key length '${v}', must be in [1-128]`,
      (r, n) => {
        r.hmacKeyLen = n;
        r.settings.useHmac = true;
      },
    ),
  ),
  opt("hmac-digest-type", "", ARG, digest("hmacType", "hmac digest type", hmac), {
    rcVar: "HMAC_DIGEST_TYPE",
    alsoSets: USE_HMAC,
  }),
  opt(
    "icmp-type",
    "",
    ARG,
    ranged(
      0,
      40,
      (v) => `Invalid icmp type '${v}', must be in [0-40]`,
      (r, n) => {
        r.icmpType = n;
      },
    ),
  ),
  opt(
    "icmp-code",
    "",
    ARG,
    ranged(
      0,
      15,
      (v) => `Invalid icmp code '${v}', must be in [0-15]`,
      (r, n) => {
        r.icmpCode = n;
      },
    ),
  ),
  opt("last-cmd", "l", FLAG, reqOn("lastCmd"), EARLY),
  opt("nat-access", "N", ARG, text("natAccess"), { rcVar: "NAT_ACCESS" }),
  opt("named-config", "n", ARG, reqText("namedConfig"), EARLY),
  opt("nat-local", "", FLAG, on("natLocal"), { rcVar: "NAT_LOCAL" }),
  opt(
    "nat-port",
    "",
    ARG,
    intOption(0, 65535, (r, n) => {
      r.settings.natPort = n;
    }),
    { rcVar: "NAT_PORT" },
  ),
  opt("nat-rand-port", "", FLAG, on("natRandPort"), { rcVar: "NAT_RAND_PORT" }),
  opt("no-home-dir", "", FLAG, reqOn("noHomeDir"), EARLY),
  opt("no-rc-file", "", FLAG, reqOn("noRcFile"), EARLY),
  opt(
    "server-port",
    "p",
    ARG,
    intOption(0, 65535, (r, n) => {
      r.settings.serverPort = n;
    }),
    { rcVar: "SPA_SERVER_PORT" },
  ),
  opt("server-proto", "P", ARG, proto, { rcVar: "SPA_SERVER_PROTO" }),
  opt("spoof-source", "Q", ARG, text("spoofSource"), { rcVar: "SPOOF_SOURCE_IP" }),
  opt("spoof-src", "", ARG, text("spoofSource"), { rcVar: "SPOOF_SOURCE_IP", id: "spoof-source" }),
  opt("rc-file", "", ARG, reqText("rcFile"), EARLY),
  opt("rand-port", "r", FLAG, on("randPort"), { rcVar: "RAND_PORT" }),
  opt("resolve-ip-https", "R", FLAG, on("resolveIp"), { rcVar: "RESOLVE_IP_HTTPS" }),
  opt("resolve-ip-http", "", FLAG, on("resolveIp"), {
    rcVar: "RESOLVE_IP_HTTPS",
    id: "resolve-ip-https",
  }),
  opt("resolve-http-only", "", FLAG, on("resolveHttpOnly", resolve), {
    rcVar: "RESOLVE_HTTP_ONLY",
  }),
  opt("resolve-url", "", ARG, text("resolveUrl", resolve), { rcVar: "RESOLVE_URL" }),
  opt("server-resolve-ipv4", "", FLAG, on("serverResolveIpv4"), { rcVar: "SERVER_RESOLVE_IPV4" }),
  opt("show-last", "", FLAG, reqOn("showLast"), EARLY),
  opt("source-ip", "s", FLAG, sourceIp, { rcVar: "ALLOW_IP" }),
  opt(
    "source-port",
    "S",
    ARG,
    intOption(0, 65535, (r, n) => {
      r.settings.sourcePort = n;
    }),
    { rcVar: "SPA_SOURCE_PORT" },
  ),
  opt("stdin", "", FLAG, reqOn("keyFromStdin")),
  opt("test", "T", FLAG, reqOn("test")),
  opt("time-offset-plus", "", ARG, timeOffset(1), { rcVar: "TIME_OFFSET" }),
  opt("time-offset-minus", "", ARG, timeOffset(-1), { rcVar: "TIME_OFFSET" }),
  opt("user-agent", "u", ARG, text("userAgent"), { rcVar: "HTTP_USER_AGENT" }),
  opt("use-hmac", "", FLAG, on("useHmac"), { rcVar: "USE_HMAC" }),
  opt("use-wget-user-agent", "", FLAG, on("useWgetUserAgent"), { rcVar: "USE_WGET_USER_AGENT" }),
  opt("spoof-user", "U", ARG, text("spoofUser"), { rcVar: "SPOOF_USER" }),
  opt(
    "verbose",
    "v",
    FLAG,
    (r) => {
      r.settings.verbose++;
      return undefined;
    },
    { rcVar: "VERBOSE" },
  ),
  opt("version", "V", FLAG, reqOn("version"), EARLY),
  opt("wget-cmd", "w", ARG, text("wgetCmd"), { rcVar: "WGET_CMD" }),
  opt("ssh-proxy", "", ARG, reqText("sshProxy")),
  {
    ...opt("verify", "", FLAG, (r, v) => {
      const n = v === "" ? DEFAULT_VERIFY_SECONDS : cliInt(v, 1, 3600);
      if (typeof n === "string") return n;
      r.verifySeconds = n;
      return undefined;
    }),
    optionalArg: true,
    extension: true,
  },
];

const BY_ID = new Map(CLIENT_OPTIONS.map((o) => [o.id, o]));

export function clientOption(id: string): ClientOption | undefined {
  return BY_ID.get(id);
}
