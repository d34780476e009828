/**
 * The client's settings and the ~/.fwknoprc variables that feed them (spec §13.3).
 *
 * Every rc variable has one entry in RC_VARIABLES: how a value is read into the settings and how
 * the current setting is written back by `--save-rc-stanza`. Command-line options that have an rc
 * twin go through the same readers, so both sources accept the same values.
 */
import { b64Decode, isBase64Text } from "../protocol/base64.js";
import {
  DIGEST_DISPLAY_NAMES,
  type DigestName,
  type EncryptionMode,
  parseDigestName,
  parseEncryptionMode,
} from "../protocol/constants.js";
import { cStrtol } from "../protocol/fields.js";

export const SPA_PROTOCOLS = ["udp", "udpraw", "tcp", "tcpraw", "icmp", "http"] as const;
export type SpaProtocol = (typeof SPA_PROTOCOLS)[number];

export const DEFAULT_SPA_PORT = 62201;

/** How a key was given, kept so `--save-rc-stanza` can write it back in the same form. */
export interface KeyText {
  readonly form: "text" | "base64";
  readonly text: string;
}

export interface ClientSettings {
  digestType: DigestName;
  proto: SpaProtocol;
  serverPort: number;
  /** 0 lets the OS choose. */
  sourcePort: number;
  /** -1 when no client timeout was asked for (0 is a valid request). */
  fwTimeout: number;
  allowIp?: string;
  /** -s: allow-IP 0.0.0.0, the server uses the packet's source address. */
  sourceIp: boolean;
  /** -R: resolve the external address over HTTPS (or HTTP). */
  resolveIp: boolean;
  resolveHttpOnly: boolean;
  resolveUrl?: string;
  /** Seconds added to the timestamp (negative for --time-offset-minus). */
  timeOffset: number;
  encMode: EncryptionMode;
  useGpg: boolean;
  gpgAgent: boolean;
  gpgNoSigningPw: boolean;
  gpgRecipient?: string;
  gpgSigner?: string;
  gpgHomeDir?: string;
  gpgExe?: string;
  gpgSigningPw?: KeyText;
  spoofUser?: string;
  spoofSource?: string;
  access?: string;
  destination?: string;
  randPort: boolean;
  key?: KeyText;
  hmacType: DigestName;
  hmacKey?: KeyText;
  useHmac: boolean;
  useWgetUserAgent: boolean;
  keyFile?: string;
  hmacKeyFile?: string;
  natAccess?: string;
  userAgent?: string;
  serverResolveIpv4: boolean;
  natLocal: boolean;
  natRandPort: boolean;
  /** 0 when not set. */
  natPort: number;
  verbose: number;
  wgetCmd?: string;
  noSaveArgs: boolean;
}

export function defaultSettings(): ClientSettings {
  return {
    digestType: "sha256",
    proto: "udp",
    serverPort: DEFAULT_SPA_PORT,
    sourcePort: 0,
    fwTimeout: -1,
    sourceIp: false,
    resolveIp: false,
    resolveHttpOnly: false,
    timeOffset: 0,
    encMode: "CBC",
    useGpg: false,
    gpgAgent: false,
    gpgNoSigningPw: false,
    randPort: false,
    hmacType: "sha256",
    useHmac: false,
    useWgetUserAgent: false,
    serverResolveIpv4: false,
    natLocal: false,
    natRandPort: false,
    natPort: 0,
    verbose: 0,
    noSaveArgs: false,
  };
}

/** Largest decoded key the client takes (MAX_KEY_LEN), encryption or HMAC. */
export const MAX_CLIENT_KEY_LEN = 128;

/** Key bytes of a KEY/KEY_BASE64-style value; undefined when base64 is malformed or too long. */
export function keyBytes(k: KeyText): Buffer | undefined {
  if (k.form === "text") return Buffer.from(k.text, "utf8");
  if (!isBase64Text(k.text)) return undefined;
  const raw = b64Decode(k.text);
  if (!raw || raw.length === 0 || raw.length >= MAX_CLIENT_KEY_LEN) return undefined;
  return raw;
}

/**
 * `--time-offset-plus/minus` and TIME_OFFSET magnitudes: digits collected until the first unit
 * letter (m, h, d), other characters skipped — so `1x2` is 12 s and `3m5` is 3 minutes, as
 * fwknop 2.6.10 reads them. At most 65536 units.
 */
export function parseTimeOffset(text: string): number | undefined {
  let digits = "";
  let unit = 1;
  for (const ch of text) {
    if (ch >= "0" && ch <= "9") digits += ch;
    else if (ch === "m" || ch === "M") unit = 60;
    else if (ch === "h" || ch === "H") unit = 3600;
    else if (ch === "d" || ch === "D") unit = 86400;
    else continue;
    if (unit !== 1) break;
  }
  if (digits === "") return undefined;
  const n = Number(digits);
  if (n > 65536) return undefined;
  return n * unit;
}

export function parseProtocol(text: string): SpaProtocol | undefined {
  const lower = text.toLowerCase();
  return SPA_PROTOCOLS.find((p) => p === lower);
}

/** Only an exact `Y` (any case) means yes, as upstream reads rc booleans. */
function yes(v: string): boolean {
  return v.toUpperCase() === "Y";
}

function yn(b: boolean): string | undefined {
  return b ? "Y" : undefined;
}

type Reader = (s: ClientSettings, value: string) => boolean;
type Writer = (s: ClientSettings) => string | undefined;

interface RcVariable {
  readonly name: string;
  readonly read: Reader;
  readonly write: Writer;
  /** Asked about before --save-rc-stanza overwrites it (without --force-stanza). */
  readonly critical?: boolean;
}

function intReader(min: number, max: number, set: (s: ClientSettings, n: number) => void): Reader {
  return (s, v) => {
    const n = cStrtol(v, min, max);
    if (n === undefined) return false;
    set(s, n);
    return true;
  };
}

function keyReader(
  form: KeyText["form"],
  set: (s: ClientSettings, k: KeyText) => void,
  enablesHmac: boolean,
): Reader {
  return (s, v) => {
    const k: KeyText = { form, text: v };
    if (form === "base64" && keyBytes(k) === undefined) return false;
    set(s, k);
    if (enablesHmac) s.useHmac = true;
    return true;
  };
}

function keyWriter(form: KeyText["form"], get: (s: ClientSettings) => KeyText | undefined): Writer {
  return (s) => {
    const k = get(s);
    return k && k.form === form ? k.text : undefined;
  };
}

/** In the order upstream writes them with --save-rc-stanza. */
export const RC_VARIABLES: readonly RcVariable[] = [
  {
    name: "DIGEST_TYPE",
    read: (s, v) => {
      const d = parseDigestName(v);
      if (d) s.digestType = d;
      return d !== undefined;
    },
    write: (s) => DIGEST_DISPLAY_NAMES[s.digestType],
  },
  {
    name: "SPA_SERVER_PROTO",
    read: (s, v) => {
      const p = parseProtocol(v);
      if (p) s.proto = p;
      return p !== undefined;
    },
    write: (s) => s.proto,
  },
  {
    name: "SPA_SERVER_PORT",
    read: intReader(0, 65535, (s, n) => {
      s.serverPort = n;
    }),
    write: (s) => String(s.serverPort),
  },
  {
    name: "SPA_SOURCE_PORT",
    read: intReader(0, 65535, (s, n) => {
      s.sourcePort = n;
    }),
    write: (s) => String(s.sourcePort),
  },
  {
    name: "FW_TIMEOUT",
    read: intReader(0, 65536, (s, n) => {
      s.fwTimeout = n;
    }),
    write: (s) => (s.fwTimeout >= 0 ? String(s.fwTimeout) : undefined),
  },
  {
    name: "ALLOW_IP",
    read: (s, v) => {
      const lower = v.toLowerCase();
      s.sourceIp = lower === "source";
      s.resolveIp = lower === "resolve";
      if (s.sourceIp || s.resolveIp) delete s.allowIp;
      else s.allowIp = v;
      return true;
    },
    write: (s) => (s.sourceIp ? "source" : s.resolveIp ? "resolve" : s.allowIp),
  },
  {
    name: "TIME_OFFSET",
    read: (s, v) => {
      const neg = v.startsWith("-");
      const n = parseTimeOffset(neg ? v.slice(1) : v);
      if (n === undefined) return false;
      s.timeOffset = neg ? -n : n;
      return true;
    },
    write: (s) => String(s.timeOffset),
  },
  {
    name: "ENCRYPTION_MODE",
    read: (s, v) => {
      const m = parseEncryptionMode(v);
      if (m) s.encMode = m;
      return m !== undefined;
    },
    write: (s) => s.encMode,
  },
  {
    name: "USE_GPG",
    read: (s, v) => {
      s.useGpg = yes(v);
      return true;
    },
    write: (s) => yn(s.useGpg),
  },
  {
    name: "USE_GPG_AGENT",
    read: (s, v) => {
      s.gpgAgent = yes(v);
      return true;
    },
    write: (s) => yn(s.gpgAgent),
  },
  {
    name: "GPG_RECIPIENT",
    critical: true,
    read: (s, v) => {
      s.gpgRecipient = v;
      s.useGpg = true;
      return true;
    },
    write: (s) => s.gpgRecipient,
  },
  {
    name: "GPG_SIGNER",
    critical: true,
    read: (s, v) => {
      s.gpgSigner = v;
      s.useGpg = true;
      return true;
    },
    write: (s) => s.gpgSigner,
  },
  {
    name: "GPG_HOMEDIR",
    read: (s, v) => {
      s.gpgHomeDir = v;
      return true;
    },
    write: (s) => s.gpgHomeDir,
  },
  {
    name: "GPG_EXE",
    read: (s, v) => {
      s.gpgExe = v;
      return true;
    },
    write: (s) => s.gpgExe,
  },
  {
    name: "GPG_SIGNING_PW",
    critical: true,
    read: keyReader(
      "text",
      (s, k) => {
        s.gpgSigningPw = k;
      },
      false,
    ),
    write: keyWriter("text", (s) => s.gpgSigningPw),
  },
  {
    name: "GPG_SIGNING_PW_BASE64",
    critical: true,
    read: keyReader(
      "base64",
      (s, k) => {
        s.gpgSigningPw = k;
      },
      false,
    ),
    write: keyWriter("base64", (s) => s.gpgSigningPw),
  },
  {
    name: "GPG_NO_SIGNING_PW",
    read: (s, v) => {
      s.gpgNoSigningPw = yes(v);
      return true;
    },
    write: (s) => yn(s.gpgNoSigningPw),
  },
  {
    name: "SPOOF_USER",
    read: (s, v) => {
      s.spoofUser = v;
      return true;
    },
    write: (s) => s.spoofUser,
  },
  {
    name: "SPOOF_SOURCE_IP",
    read: (s, v) => {
      s.spoofSource = v;
      return true;
    },
    write: (s) => s.spoofSource,
  },
  {
    name: "ACCESS",
    read: (s, v) => {
      s.access = v;
      return true;
    },
    write: (s) => s.access,
  },
  {
    name: "SPA_SERVER",
    read: (s, v) => {
      s.destination = v;
      return true;
    },
    write: (s) => s.destination,
  },
  {
    name: "RAND_PORT",
    read: (s, v) => {
      s.randPort = yes(v);
      return true;
    },
    write: (s) => yn(s.randPort),
  },
  {
    name: "KEY",
    critical: true,
    read: keyReader(
      "text",
      (s, k) => {
        s.key = k;
      },
      false,
    ),
    write: keyWriter("text", (s) => s.key),
  },
  {
    name: "KEY_BASE64",
    critical: true,
    read: keyReader(
      "base64",
      (s, k) => {
        s.key = k;
      },
      false,
    ),
    write: keyWriter("base64", (s) => s.key),
  },
  {
    name: "HMAC_DIGEST_TYPE",
    read: (s, v) => {
      const d = parseDigestName(v);
      if (d) s.hmacType = d;
      return d !== undefined;
    },
    write: (s) => DIGEST_DISPLAY_NAMES[s.hmacType],
  },
  {
    name: "HMAC_KEY_BASE64",
    critical: true,
    read: keyReader(
      "base64",
      (s, k) => {
        s.hmacKey = k;
      },
      true,
    ),
    write: keyWriter("base64", (s) => s.hmacKey),
  },
  {
    name: "HMAC_KEY",
    critical: true,
    read: keyReader(
      "text",
      (s, k) => {
        s.hmacKey = k;
      },
      true,
    ),
    write: keyWriter("text", (s) => s.hmacKey),
  },
  {
    name: "USE_HMAC",
    read: (s, v) => {
      s.useHmac = yes(v);
      return true;
    },
    write: (s) => yn(s.useHmac),
  },
  {
    name: "USE_WGET_USER_AGENT",
    read: (s, v) => {
      s.useWgetUserAgent = yes(v);
      return true;
    },
    write: (s) => yn(s.useWgetUserAgent),
  },
  {
    name: "KEY_FILE",
    read: (s, v) => {
      s.keyFile = v;
      return true;
    },
    write: (s) => s.keyFile,
  },
  {
    // Upstream 2.6.10 stores this in the encryption key-file slot (a bug); we honour the name.
    name: "HMAC_KEY_FILE",
    read: (s, v) => {
      s.hmacKeyFile = v;
      s.useHmac = true;
      return true;
    },
    write: (s) => s.hmacKeyFile,
  },
  {
    name: "NAT_ACCESS",
    read: (s, v) => {
      s.natAccess = v;
      return true;
    },
    write: (s) => s.natAccess,
  },
  {
    name: "HTTP_USER_AGENT",
    read: (s, v) => {
      s.userAgent = v;
      return true;
    },
    write: (s) => s.userAgent,
  },
  {
    name: "RESOLVE_URL",
    read: (s, v) => {
      s.resolveUrl = v;
      s.resolveIp = true;
      return true;
    },
    write: (s) => s.resolveUrl,
  },
  {
    name: "SERVER_RESOLVE_IPV4",
    read: (s, v) => {
      s.serverResolveIpv4 = yes(v);
      return true;
    },
    write: (s) => yn(s.serverResolveIpv4),
  },
  {
    name: "NAT_LOCAL",
    read: (s, v) => {
      s.natLocal = yes(v);
      return true;
    },
    write: (s) => yn(s.natLocal),
  },
  {
    name: "NAT_RAND_PORT",
    read: (s, v) => {
      s.natRandPort = yes(v);
      return true;
    },
    write: (s) => yn(s.natRandPort),
  },
  {
    name: "NAT_PORT",
    read: intReader(0, 65535, (s, n) => {
      s.natPort = n;
    }),
    write: (s) => (s.natPort > 0 ? String(s.natPort) : undefined),
  },
  {
    name: "VERBOSE",
    read: (s, v) => {
      if (yes(v)) s.verbose = 1;
      else {
        const n = cStrtol(v, 0, 10);
        if (n === undefined) return false;
        s.verbose = n;
      }
      return true;
    },
    write: (s) => (s.verbose > 0 ? String(s.verbose) : undefined),
  },
  {
    name: "RESOLVE_IP_HTTP",
    read: (s, v) => {
      s.resolveIp = yes(v);
      return true;
    },
    write: (s) => yn(s.resolveIp),
  },
  {
    name: "RESOLVE_IP_HTTPS",
    read: (s, v) => {
      s.resolveIp = yes(v);
      return true;
    },
    write: (s) => yn(s.resolveIp),
  },
  {
    name: "RESOLVE_HTTP_ONLY",
    read: (s, v) => {
      s.resolveHttpOnly = yes(v);
      if (s.resolveHttpOnly) s.resolveIp = true;
      return true;
    },
    write: (s) => yn(s.resolveHttpOnly),
  },
  {
    name: "WGET_CMD",
    read: (s, v) => {
      s.wgetCmd = v;
      return true;
    },
    write: (s) => s.wgetCmd,
  },
  {
    name: "NO_SAVE_ARGS",
    read: (s, v) => {
      s.noSaveArgs = yes(v);
      return true;
    },
    write: (s) => yn(s.noSaveArgs),
  },
];

const BY_NAME = new Map(RC_VARIABLES.map((v) => [v.name, v]));

/** Variable names are case-sensitive, as upstream compares them. */
export function findRcVariable(name: string): RcVariable | undefined {
  return BY_NAME.get(name);
}

/** Applies one rc variable; false when the name is unknown or the value is refused. */
export function applyRcVariable(s: ClientSettings, name: string, value: string): boolean {
  const v = findRcVariable(name);
  return v ? v.read(s, value) : false;
}
