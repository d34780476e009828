/**
 * Every `fwknop` 2.6.10 command-line option (spec §13.2), plus our `--ssh-proxy`, and what each
 * does to the run. Options with an rc twin name it in `rcVar`: their value goes through the rc
 * reader (one validation for both sources) and `--save-rc-stanza` writes that variable.
 */
import { isBase64Text } from "../protocol/base64.js";
import { parseDigestName, parseEncryptionMode } from "../protocol/constants.js";
import type { OptionSpec } from "./getopt.js";
import {
  type ClientSettings,
  keyBytes,
  parseProtocol,
  parseTimeOffset,
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

const DIGEST_CHOICES = "{md5,sha1,sha256,sha384,sha512,sha3_256,sha3_512}";

function flag(set: (r: RunRequest) => void): Apply {
  return (r) => {
    set(r);
    return undefined;
  };
}

const s = (r: RunRequest) => r.settings;

export const CLIENT_OPTIONS: readonly ClientOption[] = [
  {
    long: "allow-ip",
    short: "a",
    takesArg: true,
    id: "allow-ip",
    rcVar: "ALLOW_IP",
    apply: (r, v) => {
      s(r).allowIp = v;
      s(r).sourceIp = false;
      s(r).resolveIp = false;
      return undefined;
    },
  },
  {
    long: "access",
    short: "A",
    takesArg: true,
    id: "access",
    rcVar: "ACCESS",
    apply: (r, v) => {
      s(r).access = v;
      return undefined;
    },
  },
  {
    long: "save-packet-append",
    short: "b",
    takesArg: false,
    id: "save-packet-append",
    apply: flag((r) => {
      r.savePacketAppend = true;
    }),
  },
  {
    long: "save-packet",
    short: "B",
    takesArg: true,
    id: "save-packet",
    apply: (r, v) => {
      r.savePacketFile = v;
      return undefined;
    },
  },
  {
    long: "save-rc-stanza",
    takesArg: false,
    id: "save-rc-stanza",
    early: true,
    apply: flag((r) => {
      r.saveRcStanza = true;
    }),
  },
  {
    long: "force-stanza",
    takesArg: false,
    id: "force-stanza",
    early: true,
    apply: flag((r) => {
      r.forceStanza = true;
    }),
  },
  {
    long: "stanza-list",
    takesArg: false,
    id: "stanza-list",
    early: true,
    apply: flag((r) => {
      r.stanzaList = true;
    }),
  },
  {
    long: "no-save-args",
    takesArg: false,
    id: "no-save-args",
    apply: flag((r) => {
      s(r).noSaveArgs = true;
    }),
  },
  {
    long: "server-cmd",
    short: "C",
    takesArg: true,
    id: "server-cmd",
    apply: (r, v) => {
      r.serverCmd = v;
      return undefined;
    },
  },
  {
    long: "digest-type",
    short: "m",
    takesArg: true,
    id: "digest-type",
    rcVar: "DIGEST_TYPE",
    apply: (r, v) => {
      const d = parseDigestName(v);
      if (!d) return `* Invalid digest type: ${v}, use ${DIGEST_CHOICES}`;
      s(r).digestType = d;
      return undefined;
    },
  },
  {
    long: "destination",
    short: "D",
    takesArg: true,
    id: "destination",
    rcVar: "SPA_SERVER",
    apply: (r, v) => {
      s(r).destination = v;
      return undefined;
    },
  },
  {
    long: "save-args-file",
    short: "E",
    takesArg: true,
    id: "save-args-file",
    early: true,
    apply: (r, v) => {
      r.saveArgsFile = v;
      return undefined;
    },
  },
  {
    long: "encryption-mode",
    short: "M",
    takesArg: true,
    id: "encryption-mode",
    rcVar: "ENCRYPTION_MODE",
    apply: (r, v) => {
      const m = parseEncryptionMode(v);
      if (!m) return `* Invalid encryption mode: ${v}, use {CBC,CTR,legacy,Asymmetric}`;
      s(r).encMode = m;
      return undefined;
    },
  },
  {
    long: "fd",
    takesArg: true,
    id: "fd",
    apply: intOption(0, 65535, (r, n) => {
      r.keyFd = n;
    }),
  },
  {
    long: "fw-timeout",
    short: "f",
    takesArg: true,
    id: "fw-timeout",
    rcVar: "FW_TIMEOUT",
    apply: (r, v) => {
      const n = cliInt(v, 0, 131072);
      if (typeof n === "string") return "--fw-timeout must be within [0-131072]";
      s(r).fwTimeout = n;
      return undefined;
    },
  },
  {
    long: "fault-injection-tag",
    takesArg: true,
    id: "fault-injection-tag",
    apply: () => "fwknop not compiled with fault injection support.",
  },
  {
    long: "gpg-encryption",
    short: "g",
    takesArg: false,
    id: "gpg-encryption",
    rcVar: "USE_GPG",
    apply: flag((r) => {
      s(r).useGpg = true;
    }),
  },
  {
    long: "gpg-recipient-key",
    takesArg: true,
    id: "gpg-recipient-key",
    rcVar: "GPG_RECIPIENT",
    apply: (r, v) => {
      s(r).gpgRecipient = v;
      s(r).useGpg = true;
      return undefined;
    },
  },
  {
    long: "gpg-signer-key",
    takesArg: true,
    id: "gpg-signer-key",
    rcVar: "GPG_SIGNER",
    apply: (r, v) => {
      s(r).gpgSigner = v;
      s(r).useGpg = true;
      return undefined;
    },
  },
  {
    long: "gpg-home-dir",
    takesArg: true,
    id: "gpg-home-dir",
    rcVar: "GPG_HOMEDIR",
    apply: (r, v) => {
      s(r).gpgHomeDir = v;
      s(r).useGpg = true;
      return undefined;
    },
  },
  {
    long: "gpg-exe",
    takesArg: true,
    id: "gpg-exe",
    rcVar: "GPG_EXE",
    apply: (r, v) => {
      s(r).gpgExe = v;
      s(r).useGpg = true;
      return undefined;
    },
  },
  {
    long: "gpg-agent",
    takesArg: false,
    id: "gpg-agent",
    rcVar: "USE_GPG_AGENT",
    apply: flag((r) => {
      s(r).gpgAgent = true;
      s(r).useGpg = true;
    }),
  },
  {
    long: "gpg-no-signing-pw",
    takesArg: false,
    id: "gpg-no-signing-pw",
    rcVar: "GPG_NO_SIGNING_PW",
    apply: flag((r) => {
      s(r).gpgNoSigningPw = true;
      s(r).useGpg = true;
    }),
  },
  {
    long: "get-key",
    short: "G",
    takesArg: true,
    id: "get-key",
    rcVar: "KEY_FILE",
    apply: (r, v) => {
      s(r).keyFile = v;
      return undefined;
    },
  },
  {
    long: "get-hmac-key",
    takesArg: true,
    id: "get-hmac-key",
    rcVar: "HMAC_KEY_FILE",
    alsoSets: ["USE_HMAC"],
    apply: (r, v) => {
      s(r).hmacKeyFile = v;
      s(r).useHmac = true;
      return undefined;
    },
  },
  {
    long: "help",
    short: "h",
    takesArg: false,
    id: "help",
    early: true,
    apply: flag((r) => {
      r.help = true;
    }),
  },
  {
    long: "http-proxy",
    short: "H",
    takesArg: true,
    id: "http-proxy",
    apply: (r, v) => {
      r.httpProxy = v;
      s(r).proto = "http";
      return undefined;
    },
  },
  {
    long: "key-gen",
    short: "k",
    takesArg: false,
    id: "key-gen",
    apply: flag((r) => {
      r.keyGen = true;
    }),
  },
  {
    long: "key-gen-file",
    short: "K",
    takesArg: true,
    id: "key-gen-file",
    apply: (r, v) => {
      r.keyGen = true;
      r.keyGenFile = v;
      return undefined;
    },
  },
  {
    long: "key-rijndael",
    takesArg: true,
    id: "key-rijndael",
    rcVar: "KEY",
    apply: (r, v) => {
      s(r).key = { form: "text", text: v };
      return undefined;
    },
  },
  {
    long: "key-base64-rijndael",
    takesArg: true,
    id: "key-base64-rijndael",
    rcVar: "KEY_BASE64",
    apply: (r, v) => {
      const k = { form: "base64", text: v } as const;
      if (!isBase64Text(v) || !keyBytes(k)) {
        return `Base64 encoded Rijndael argument '${v}' doesn't look like base64-encoded data.`;
      }
      s(r).key = k;
      return undefined;
    },
  },
  {
    long: "key-base64-hmac",
    takesArg: true,
    id: "key-base64-hmac",
    rcVar: "HMAC_KEY_BASE64",
    alsoSets: ["USE_HMAC"],
    apply: (r, v) => {
      const k = { form: "base64", text: v } as const;
      if (!isBase64Text(v) || !keyBytes(k)) {
        return `Base64 encoded HMAC argument '${v}' doesn't look like base64-encoded data.`;
      }
      s(r).hmacKey = k;
      s(r).useHmac = true;
      return undefined;
    },
  },
  {
    long: "key-hmac",
    takesArg: true,
    id: "key-hmac",
    rcVar: "HMAC_KEY",
    alsoSets: ["USE_HMAC"],
    apply: (r, v) => {
      s(r).hmacKey = { form: "text", text: v };
      s(r).useHmac = true;
      return undefined;
    },
  },
  {
    long: "key-len",
    takesArg: true,
    id: "key-len",
    apply: (r, v) => {
      const n = cliInt(v, 1, 128);
      if (typeof n === "string") return `Invalid key length '${v}', must be in [1-128]`;
      r.keyLen = n;
      return undefined;
    },
  },
  {
    long: "hmac-key-len",
    takesArg: true,
    id: "hmac-key-len",
    apply: (r, v) => {
      const n = cliInt(v, 1, 128);
      if (typeof n === "string") return `Invalid hmac key length '${v}', must be in [1-128]`;
      r.hmacKeyLen = n;
      s(r).useHmac = true;
      return undefined;
    },
  },
  {
    long: "hmac-digest-type",
    takesArg: true,
    id: "hmac-digest-type",
    rcVar: "HMAC_DIGEST_TYPE",
    alsoSets: ["USE_HMAC"],
    apply: (r, v) => {
      const d = parseDigestName(v);
      if (!d) return `* Invalid hmac digest type: ${v}, use ${DIGEST_CHOICES}`;
      s(r).hmacType = d;
      s(r).useHmac = true;
      return undefined;
    },
  },
  {
    long: "icmp-type",
    takesArg: true,
    id: "icmp-type",
    apply: (r, v) => {
      const n = cliInt(v, 0, 40);
      if (typeof n === "string") return `Invalid icmp type '${v}', must be in [0-40]`;
      r.icmpType = n;
      return undefined;
    },
  },
  {
    long: "icmp-code",
    takesArg: true,
    id: "icmp-code",
    apply: (r, v) => {
      const n = cliInt(v, 0, 15);
      if (typeof n === "string") return `Invalid icmp code '${v}', must be in [0-15]`;
      r.icmpCode = n;
      return undefined;
    },
  },
  {
    long: "last-cmd",
    short: "l",
    takesArg: false,
    id: "last-cmd",
    early: true,
    apply: flag((r) => {
      r.lastCmd = true;
    }),
  },
  {
    long: "nat-access",
    short: "N",
    takesArg: true,
    id: "nat-access",
    rcVar: "NAT_ACCESS",
    apply: (r, v) => {
      s(r).natAccess = v;
      return undefined;
    },
  },
  {
    long: "named-config",
    short: "n",
    takesArg: true,
    id: "named-config",
    early: true,
    apply: (r, v) => {
      r.namedConfig = v;
      return undefined;
    },
  },
  {
    long: "nat-local",
    takesArg: false,
    id: "nat-local",
    rcVar: "NAT_LOCAL",
    apply: flag((r) => {
      s(r).natLocal = true;
    }),
  },
  {
    long: "nat-port",
    takesArg: true,
    id: "nat-port",
    rcVar: "NAT_PORT",
    apply: intOption(0, 65535, (r, n) => {
      s(r).natPort = n;
    }),
  },
  {
    long: "nat-rand-port",
    takesArg: false,
    id: "nat-rand-port",
    rcVar: "NAT_RAND_PORT",
    apply: flag((r) => {
      s(r).natRandPort = true;
    }),
  },
  {
    long: "no-home-dir",
    takesArg: false,
    id: "no-home-dir",
    early: true,
    apply: flag((r) => {
      r.noHomeDir = true;
    }),
  },
  {
    long: "no-rc-file",
    takesArg: false,
    id: "no-rc-file",
    early: true,
    apply: flag((r) => {
      r.noRcFile = true;
    }),
  },
  {
    long: "server-port",
    short: "p",
    takesArg: true,
    id: "server-port",
    rcVar: "SPA_SERVER_PORT",
    apply: intOption(0, 65535, (r, n) => {
      s(r).serverPort = n;
    }),
  },
  {
    long: "server-proto",
    short: "P",
    takesArg: true,
    id: "server-proto",
    rcVar: "SPA_SERVER_PROTO",
    apply: (r, v) => {
      const p = parseProtocol(v);
      if (!p) return `Unrecognized protocol: ${v} (use one of ${SPA_PROTOCOLS.join(", ")})`;
      s(r).proto = p;
      return undefined;
    },
  },
  ...["spoof-source", "spoof-src"].map(
    (long): ClientOption => ({
      long,
      ...(long === "spoof-source" ? { short: "Q" } : {}),
      takesArg: true,
      id: "spoof-source",
      rcVar: "SPOOF_SOURCE_IP",
      apply: (r, v) => {
        s(r).spoofSource = v;
        return undefined;
      },
    }),
  ),
  {
    long: "rc-file",
    takesArg: true,
    id: "rc-file",
    early: true,
    apply: (r, v) => {
      r.rcFile = v;
      return undefined;
    },
  },
  {
    long: "rand-port",
    short: "r",
    takesArg: false,
    id: "rand-port",
    rcVar: "RAND_PORT",
    apply: flag((r) => {
      s(r).randPort = true;
    }),
  },
  ...["resolve-ip-https", "resolve-ip-http"].map(
    (long): ClientOption => ({
      long,
      ...(long === "resolve-ip-https" ? { short: "R" } : {}),
      takesArg: false,
      id: "resolve-ip-https",
      rcVar: "RESOLVE_IP_HTTPS",
      apply: flag((r) => {
        s(r).resolveIp = true;
      }),
    }),
  ),
  {
    long: "resolve-http-only",
    takesArg: false,
    id: "resolve-http-only",
    rcVar: "RESOLVE_HTTP_ONLY",
    apply: flag((r) => {
      s(r).resolveHttpOnly = true;
      s(r).resolveIp = true;
    }),
  },
  {
    long: "resolve-url",
    takesArg: true,
    id: "resolve-url",
    rcVar: "RESOLVE_URL",
    apply: (r, v) => {
      s(r).resolveUrl = v;
      s(r).resolveIp = true;
      return undefined;
    },
  },
  {
    long: "server-resolve-ipv4",
    takesArg: false,
    id: "server-resolve-ipv4",
    rcVar: "SERVER_RESOLVE_IPV4",
    apply: flag((r) => {
      s(r).serverResolveIpv4 = true;
    }),
  },
  {
    long: "show-last",
    takesArg: false,
    id: "show-last",
    early: true,
    apply: flag((r) => {
      r.showLast = true;
    }),
  },
  {
    long: "source-ip",
    short: "s",
    takesArg: false,
    id: "source-ip",
    rcVar: "ALLOW_IP",
    apply: flag((r) => {
      s(r).sourceIp = true;
      s(r).resolveIp = false;
      delete s(r).allowIp;
    }),
  },
  {
    long: "source-port",
    short: "S",
    takesArg: true,
    id: "source-port",
    rcVar: "SPA_SOURCE_PORT",
    apply: intOption(0, 65535, (r, n) => {
      s(r).sourcePort = n;
    }),
  },
  {
    long: "stdin",
    takesArg: false,
    id: "stdin",
    apply: flag((r) => {
      r.keyFromStdin = true;
    }),
  },
  {
    long: "test",
    short: "T",
    takesArg: false,
    id: "test",
    apply: flag((r) => {
      r.test = true;
    }),
  },
  ...(["plus", "minus"] as const).map(
    (dir): ClientOption => ({
      long: `time-offset-${dir}`,
      takesArg: true,
      id: `time-offset-${dir}`,
      rcVar: "TIME_OFFSET",
      apply: (r, v) => {
        const n = parseTimeOffset(v);
        if (n === undefined) return `Invalid time offset: '${v}'`;
        s(r).timeOffset = dir === "plus" ? n : -n;
        return undefined;
      },
    }),
  ),
  {
    long: "user-agent",
    short: "u",
    takesArg: true,
    id: "user-agent",
    rcVar: "HTTP_USER_AGENT",
    apply: (r, v) => {
      s(r).userAgent = v;
      return undefined;
    },
  },
  {
    long: "use-hmac",
    takesArg: false,
    id: "use-hmac",
    rcVar: "USE_HMAC",
    apply: flag((r) => {
      s(r).useHmac = true;
    }),
  },
  {
    long: "use-wget-user-agent",
    takesArg: false,
    id: "use-wget-user-agent",
    rcVar: "USE_WGET_USER_AGENT",
    apply: flag((r) => {
      s(r).useWgetUserAgent = true;
    }),
  },
  {
    long: "spoof-user",
    short: "U",
    takesArg: true,
    id: "spoof-user",
    rcVar: "SPOOF_USER",
    apply: (r, v) => {
      s(r).spoofUser = v;
      return undefined;
    },
  },
  {
    long: "verbose",
    short: "v",
    takesArg: false,
    id: "verbose",
    apply: flag((r) => {
      s(r).verbose++;
    }),
  },
  {
    long: "version",
    short: "V",
    takesArg: false,
    id: "version",
    early: true,
    apply: flag((r) => {
      r.version = true;
    }),
  },
  {
    long: "wget-cmd",
    short: "w",
    takesArg: true,
    id: "wget-cmd",
    rcVar: "WGET_CMD",
    apply: (r, v) => {
      s(r).wgetCmd = v;
      return undefined;
    },
  },
  {
    long: "ssh-proxy",
    takesArg: true,
    id: "ssh-proxy",
    apply: (r, v) => {
      r.sshProxy = v;
      return undefined;
    },
  },
];

const BY_ID = new Map(CLIENT_OPTIONS.map((o) => [o.id, o]));

export function clientOption(id: string): ClientOption | undefined {
  return BY_ID.get(id);
}
