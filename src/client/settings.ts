/**
 * The client's settings and the ~/.fwknoprc variables that feed them (spec §13.3).
 *
 * Every rc variable has one entry in RC_VARIABLES: how a value is read into the settings and how
 * the current setting is written back by `--save-rc-stanza`. Command-line options that have an rc
 * twin go through the same readers, so both sources accept the same values.
 */
import { b64Decode, isBase64Text } from "../crypto/base64.js";
import {
  DIGEST_DISPLAY_NAMES,
  type DigestName,
  type EncryptionMode,
  parseDigestName,
  parseEncryptionMode,
} from "../protocol/constants.js";
import { cStrtol, isAllowIpv6, isValidIpv4Text } from "../protocol/fields.js";

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

/** MAX_KEY_LEN: the C client keeps text keys in a 128-byte buffer, so longer ones are cut there. */
export const MAX_CLIENT_KEY_LEN = 128;
/** MAX_B64_KEY_LEN: base64 key text past 180 characters is cut off before decoding, as in C. */
const MAX_B64_KEY_TEXT = 180;

/**
 * Key bytes of a KEY/KEY_BASE64-style value, cut as the C client's fixed buffers cut them;
 * undefined when the base64 text is malformed. Length limits are checked where the key is used
 * (`checkKeyLength`), because they differ between the encryption and the HMAC key.
 */
export function keyBytes(k: KeyText): Buffer | undefined {
  if (k.form === "text") return Buffer.from(k.text, "utf8").subarray(0, MAX_CLIENT_KEY_LEN);
  if (!isBase64Text(k.text)) return undefined;
  return b64Decode(k.text.slice(0, MAX_B64_KEY_TEXT));
}

/**
 * C's decoded-length limits with its wording: an encryption (or signing) key from base64 must be
 * 1-127 bytes, an HMAC key from base64 at most 128 (the 128-byte keys that SHA-384/512 key-gen
 * prints). Undefined when the length is fine.
 */
export function keyLengthError(
  role: "enc" | "hmac",
  k: KeyText,
  bytes: Buffer,
): string | undefined {
  if (k.form !== "base64") return undefined;
  const n = bytes.length;
  if (role === "enc" && (n < 1 || n >= MAX_CLIENT_KEY_LEN)) {
    return `[*] Invalid key length: '${n}', must be in [1,${MAX_CLIENT_KEY_LEN}]`;
  }
  if (role === "hmac" && n > MAX_CLIENT_KEY_LEN) {
    return `[*] Invalid decoded key length: '${n}', must be in [0,${MAX_CLIENT_KEY_LEN}]`;
  }
  return undefined;
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

/** Settings that hold a plain string (set by an option or rc variable as given). */
export type SettingText =
  | "access"
  | "destination"
  | "gpgRecipient"
  | "gpgSigner"
  | "gpgHomeDir"
  | "gpgExe"
  | "keyFile"
  | "hmacKeyFile"
  | "natAccess"
  | "spoofSource"
  | "resolveUrl"
  | "userAgent"
  | "spoofUser"
  | "wgetCmd";

/** Yes/no settings. */
export type SettingFlag =
  | "useGpg"
  | "gpgAgent"
  | "gpgNoSigningPw"
  | "natLocal"
  | "natRandPort"
  | "randPort"
  | "serverResolveIpv4"
  | "useHmac"
  | "useWgetUserAgent"
  | "noSaveArgs"
  | "resolveIp"
  | "resolveHttpOnly";

/** true when taken; false or the line C prints before its "Parameter error" when refused. */
type Reader = (s: ClientSettings, value: string) => boolean | string;
type Writer = (s: ClientSettings) => string | undefined;
type Then = (s: ClientSettings) => void;

interface RcVariable {
  readonly name: string;
  readonly read: Reader;
  readonly write: Writer;
  /** Asked about before --save-rc-stanza overwrites it (without --force-stanza). */
  readonly critical?: boolean;
}

const gpg: Then = (s) => {
  s.useGpg = true;
};
const hmac: Then = (s) => {
  s.useHmac = true;
};
const resolve: Then = (s) => {
  s.resolveIp = true;
};

function textVar(name: string, key: SettingText, then?: Then, critical = false): RcVariable {
  const read: Reader = (s, v) => {
    s[key] = v;
    then?.(s);
    return true;
  };
  return { name, read, write: (s) => s[key], ...(critical ? { critical } : {}) };
}

/** Y/N variables: any value is accepted, only `Y` means yes. */
function flagVar(name: string, key: SettingFlag, then?: Then): RcVariable {
  const read: Reader = (s, v) => {
    s[key] = yes(v);
    if (s[key]) then?.(s);
    return true;
  };
  return { name, read, write: (s) => yn(s[key]) };
}

function intVar(
  name: string,
  min: number,
  max: number,
  key: "serverPort" | "sourcePort" | "fwTimeout" | "natPort",
  write: Writer,
): RcVariable {
  const read: Reader = (s, v) => {
    const n = cStrtol(v, min, max);
    if (n === undefined) return false;
    s[key] = n;
    return true;
  };
  return { name, read, write };
}

function keyVar(
  name: string,
  key: "key" | "hmacKey" | "gpgSigningPw",
  form: KeyText["form"],
  then?: Then,
): RcVariable {
  const read: Reader = (s, v) => {
    const k: KeyText = { form, text: v };
    if (form === "base64" && keyBytes(k) === undefined) {
      return `${name} argument '${v}' doesn't look like base64-encoded data.`;
    }
    s[key] = k;
    then?.(s);
    return true;
  };
  const write: Writer = (s) => {
    const k = s[key];
    return k && k.form === form ? k.text : undefined;
  };
  return { name, read, write, critical: true };
}

function digestVar(name: string, key: "digestType" | "hmacType"): RcVariable {
  const read: Reader = (s, v) => {
    const d = parseDigestName(v);
    if (d) s[key] = d;
    return d !== undefined;
  };
  return { name, read, write: (s) => DIGEST_DISPLAY_NAMES[s[key]] };
}

/** In 2.6.10's order: --save-rc-stanza writes them so, and its debug lines number them so. */
export const RC_VARIABLES: readonly RcVariable[] = [
  digestVar("DIGEST_TYPE", "digestType"),
  {
    name: "SPA_SERVER_PROTO",
    read: (s, v) => {
      const p = parseProtocol(v);
      if (p) s.proto = p;
      return p !== undefined;
    },
    write: (s) => s.proto,
  },
  intVar("SPA_SERVER_PORT", 0, 65535, "serverPort", (s) => String(s.serverPort)),
  intVar("SPA_SOURCE_PORT", 0, 65535, "sourcePort", (s) => String(s.sourcePort)),
  intVar("FW_TIMEOUT", 0, 65536, "fwTimeout", (s) =>
    s.fwTimeout >= 0 ? String(s.fwTimeout) : undefined,
  ),
  {
    name: "ALLOW_IP",
    read: (s, v) => {
      const lower = v.toLowerCase();
      // Checked here, as C does, so a bad value is refused even when -s/-R/-a override it.
      if (lower !== "source" && lower !== "resolve" && !isValidIpv4Text(v) && !isAllowIpv6(v)) {
        return false;
      }
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
  flagVar("USE_GPG", "useGpg"),
  flagVar("USE_GPG_AGENT", "gpgAgent"),
  flagVar("GPG_NO_SIGNING_PW", "gpgNoSigningPw"),
  textVar("GPG_RECIPIENT", "gpgRecipient", gpg, true),
  textVar("GPG_SIGNER", "gpgSigner", gpg, true),
  textVar("GPG_HOMEDIR", "gpgHomeDir"),
  textVar("GPG_EXE", "gpgExe"),
  textVar("SPOOF_USER", "spoofUser"),
  textVar("SPOOF_SOURCE_IP", "spoofSource"),
  textVar("ACCESS", "access"),
  textVar("SPA_SERVER", "destination"),
  flagVar("RAND_PORT", "randPort"),
  keyVar("KEY", "key", "text"),
  keyVar("KEY_BASE64", "key", "base64"),
  keyVar("GPG_SIGNING_PW", "gpgSigningPw", "text"),
  keyVar("GPG_SIGNING_PW_BASE64", "gpgSigningPw", "base64"),
  digestVar("HMAC_DIGEST_TYPE", "hmacType"),
  keyVar("HMAC_KEY_BASE64", "hmacKey", "base64", hmac),
  keyVar("HMAC_KEY", "hmacKey", "text", hmac),
  flagVar("USE_HMAC", "useHmac"),
  flagVar("USE_WGET_USER_AGENT", "useWgetUserAgent"),
  textVar("KEY_FILE", "keyFile"),
  // Upstream 2.6.10 stores this in the encryption key-file slot (a bug); we honour the name.
  textVar("HMAC_KEY_FILE", "hmacKeyFile", hmac),
  textVar("NAT_ACCESS", "natAccess"),
  textVar("HTTP_USER_AGENT", "userAgent"),
  textVar("RESOLVE_URL", "resolveUrl", resolve),
  flagVar("SERVER_RESOLVE_IPV4", "serverResolveIpv4"),
  flagVar("NAT_LOCAL", "natLocal"),
  flagVar("NAT_RAND_PORT", "natRandPort"),
  intVar("NAT_PORT", 0, 65535, "natPort", (s) => (s.natPort > 0 ? String(s.natPort) : undefined)),
  {
    name: "VERBOSE",
    read: (s, v) => {
      const n = yes(v) ? 1 : cStrtol(v, 0, 10);
      if (n === undefined) return false;
      s.verbose = n;
      return true;
    },
    // 2.6.10 writes a single -v as Y and more as the count.
    write: (s) => (s.verbose === 1 ? "Y" : s.verbose > 1 ? String(s.verbose) : undefined),
  },
  flagVar("RESOLVE_IP_HTTP", "resolveIp"),
  flagVar("RESOLVE_IP_HTTPS", "resolveIp"),
  flagVar("RESOLVE_HTTP_ONLY", "resolveHttpOnly", resolve),
  textVar("WGET_CMD", "wgetCmd"),
  flagVar("NO_SAVE_ARGS", "noSaveArgs"),
];

const BY_NAME = new Map(RC_VARIABLES.map((v) => [v.name, v]));

/** Variable names are case-sensitive, as upstream compares them. */
export function findRcVariable(name: string): RcVariable | undefined {
  return BY_NAME.get(name);
}

/** Applies one rc variable; false when the name is unknown or the value is refused. */
export function applyRcVariable(s: ClientSettings, name: string, value: string): boolean {
  const v = findRcVariable(name);
  return v ? v.read(s, value) === true : false;
}
