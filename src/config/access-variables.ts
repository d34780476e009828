/**
 * Every access.conf stanza variable (fwknopd's access.c), as a table: name → how its value is
 * checked and stored in the stanza draft. Range and format errors are fatal with file:line and
 * the upstream wording; list values (ports, addresses, GPG ids) are parsed when the stanza is
 * finished (access-defaults.ts), so those errors name the line that set them.
 */
import { b64Decode, isBase64Text } from "../crypto/base64.js";
import { canonicalIpv4 } from "../protocol/address-text.js";
import { parseDigestName, parseEncryptionMode } from "../protocol/constants.js";
import type { AccountLookup } from "../sys/accounts.js";
import { isDirectory } from "../sys/file-kind.js";
import { type DirectFields, failAt, type ListField, type StanzaDraft } from "./access-stanza.js";
import { isValidIpv4Addr } from "./address-list.js";
import { natEnabled, type ServerConfig } from "./server-config.js";
import { familyVariables } from "./server-variables.js";
import { parseCInt } from "./tokenizer.js";

const MAX_TIMEOUT = 8388608;
const CHANGEME = "__changeme__";

/** What a variable's setter may consult besides its value. */
export interface VariableContext {
  name: string;
  /** file:line of the value. */
  where: string;
  /** How the file's bytes were read (KEY and HMAC_KEY are taken as those bytes). */
  encoding: BufferEncoding;
  server: ServerConfig;
  accounts: AccountLookup;
  warn: (msg: string) => void;
}

export interface AccessVariable {
  readonly name: string;
  /** Accepted in a %include_keys file; everything else there is ignored with a message. */
  readonly keyFile?: true;
  readonly set: (d: StanzaDraft, value: string, cx: VariableContext) => void;
}

function yes(value: string): boolean {
  return /^y/i.test(value);
}

function rejectChangeme(d: StanzaDraft, value: string, cx: VariableContext): void {
  if (value.toLowerCase() === CHANGEME) {
    failAt(
      "FWK_ERR_CONFIG_KEY",
      cx.where,
      `${cx.name} value is not properly set in stanza source '${d.sourceText}' (still __CHANGEME__)`,
    );
  }
}

/**
 * Below 16 bytes (128 bits) a key can be searched; fwknopd --key-gen makes 32-byte Rijndael and
 * 64-byte HMAC keys. 2.6.10 takes any length silently; we load the key but say so, with the line.
 */
const MIN_SAFE_KEY_BYTES = 16;

function checkKeyLength(key: Buffer, cx: VariableContext): Buffer {
  if (key.length > 0 && key.length < MIN_SAFE_KEY_BYTES) {
    cx.warn(
      `${cx.where}: Warning: ${cx.name} is only ${key.length} byte(s); keys shorter than ${MIN_SAFE_KEY_BYTES} bytes can be guessed (fwknopd --key-gen makes safe ones)`,
    );
  }
  return key;
}

function base64(d: StanzaDraft, value: string, cx: VariableContext): Buffer {
  rejectChangeme(d, value, cx);
  const decoded = isBase64Text(value) ? b64Decode(value) : undefined;
  if (decoded === undefined) {
    failAt(
      "FWK_ERR_CONFIG_KEY",
      cx.where,
      `${cx.name} argument '${value}' doesn't look like base64-encoded data.`,
    );
  }
  return decoded;
}

function timeout(value: string, cx: VariableContext, min: number): number {
  const { value: n, trailing } = parseCInt(value);
  if (n < min || n > MAX_TIMEOUT) {
    failAt(
      "FWK_ERR_CONFIG_RANGE",
      cx.where,
      // 2.6.10's sentence first (it names the range only for CMD_CYCLE_TIMER), then the value.
      cx.name === "CMD_CYCLE_TIMER"
        ? `${cx.name} value not in range [${min},${MAX_TIMEOUT}]. (got '${value}')`
        : `${cx.name} value not in range. ('${value}' is not in [${min},${MAX_TIMEOUT}])`,
    );
  }
  if (trailing) cx.warn(`${cx.where}: ${cx.name} value '${value}' read as ${n}`);
  return n;
}

function requireNat(cx: VariableContext): void {
  if (natEnabled(cx.server)) return;
  const f = familyVariables(cx.server.firewallType);
  failAt(
    "FWK_ERR_CONFIG_STANZA",
    cx.where,
    f
      ? `${cx.name} requires either ${f.forwarding} or ${f.localNat} in fwknopd.conf`
      : `${cx.name} requires NAT, which FIREWALL_TYPE ${cx.server.firewallType} does not offer`,
  );
}

/**
 * Parse `MM/DD/YYYY` the way fwknopd's sscanf("%2d/%2d/%4d") + mktime() does: month 0 stays
 * January, two-digit years mean 20YY, out-of-range days roll over; result is local midnight.
 */
export function parseAccessExpire(text: string): number | undefined {
  let pos = 0;
  const num = (width: number): number | undefined => {
    while (pos < text.length && /[ \t\n\v\f\r]/.test(text[pos] ?? "")) pos++;
    const m = new RegExp(`^[+-]?\\d{1,${width}}`).exec(text.slice(pos, pos + width));
    if (!m) return undefined;
    pos += m[0].length;
    return Number(m[0]);
  };
  const lit = (ch: string): boolean => text[pos++] === ch;
  const month = num(2);
  if (month === undefined || !lit("/")) return undefined;
  const day = num(2);
  if (day === undefined || !lit("/")) return undefined;
  const year = num(4);
  if (year === undefined) return undefined;
  const tmMon = month > 0 ? month - 1 : month;
  const tmYear = year > 1900 ? year - 1900 : year < 100 ? year + 100 : year;
  const d = new Date(2000, 0, 1, 0, 0, 0, 0);
  d.setFullYear(1900 + tmYear, tmMon, day);
  d.setHours(0, 0, 0, 0);
  return Math.floor(d.getTime() / 1000);
}

type BooleanField = {
  [K in keyof DirectFields]-?: DirectFields[K] extends boolean ? K : never;
}[keyof DirectFields];
type TextField = {
  [K in keyof DirectFields]-?: string extends DirectFields[K] ? K : never;
}[keyof DirectFields];

/** A Y/N variable stored as it reads. */
function flag(name: string, field: BooleanField, keyFile?: true): AccessVariable {
  const set = (d: StanzaDraft, value: string) => {
    d.values[field] = yes(value);
  };
  return keyFile ? { name, keyFile, set } : { name, set };
}

/** A text variable stored verbatim. */
function text(name: string, field: TextField, keyFile?: true): AccessVariable {
  const set = (d: StanzaDraft, value: string) => {
    d.values[field] = value;
  };
  return keyFile ? { name, keyFile, set } : { name, set };
}

/** A list variable kept as text (with its line) until the stanza is finished. */
function list(name: string, field: ListField, keyFile?: true): AccessVariable {
  const set = (d: StanzaDraft, value: string, cx: VariableContext) => {
    d.lists[field] = { text: value, where: cx.where };
  };
  return keyFile ? { name, keyFile, set } : { name, set };
}

/** CMD_EXEC_USER, CMD_SUDO_EXEC_USER: the user's ids, looked up as the line is read. */
function execUserVariable(name: string, field: "cmdExecUser" | "cmdSudoExecUser"): AccessVariable {
  return {
    name,
    set: (d, value, cx) => {
      d[field] = execUser(value, cx);
    },
  };
}

/** CMD_EXEC_GROUP, CMD_SUDO_EXEC_GROUP. */
function execGroupVariable(
  name: string,
  field: "cmdExecGroup" | "cmdSudoExecGroup",
): AccessVariable {
  return {
    name,
    set: (d, value, cx) => {
      d[field] = execGroup(value, cx);
    },
  };
}

function execUser(value: string, cx: VariableContext) {
  const pw = cx.accounts.user(value);
  if (!pw) {
    failAt(
      "FWK_ERR_CONFIG_USER",
      cx.where,
      `Unable to determine UID for ${cx.name}: '${value}' is not a user on this system.`,
    );
  }
  return { name: value, uid: pw.uid, gid: pw.gid };
}

/** CMD_*_GROUP: upstream looks the name up as a *user* (its primary group); we also take groups. */
function execGroup(value: string, cx: VariableContext) {
  const gid = cx.accounts.user(value)?.gid ?? cx.accounts.group(value);
  if (gid === undefined) {
    failAt(
      "FWK_ERR_CONFIG_USER",
      cx.where,
      `Unable to determine GID for ${cx.name}: '${value}' is not a group on this system.`,
    );
  }
  return { name: value, gid };
}

export const ACCESS_VARIABLES: readonly AccessVariable[] = [
  list("DESTINATION", "destination"),
  list("OPEN_PORTS", "openPorts"),
  list("RESTRICT_PORTS", "restrictPorts"),
  {
    name: "KEY",
    keyFile: true,
    set: (d, value, cx) => {
      rejectChangeme(d, value, cx);
      d.values.key = checkKeyLength(Buffer.from(value, cx.encoding), cx);
      d.useRijndael = true;
    },
  },
  {
    name: "KEY_BASE64",
    keyFile: true,
    set: (d, value, cx) => {
      d.values.key = checkKeyLength(base64(d, value, cx), cx);
      d.useRijndael = true;
    },
  },
  {
    name: "HMAC_KEY",
    keyFile: true,
    set: (d, value, cx) => {
      rejectChangeme(d, value, cx);
      d.values.hmacKey = checkKeyLength(Buffer.from(value, cx.encoding), cx);
    },
  },
  {
    name: "HMAC_KEY_BASE64",
    keyFile: true,
    set: (d, value, cx) => {
      d.values.hmacKey = checkKeyLength(base64(d, value, cx), cx);
    },
  },
  {
    name: "HMAC_DIGEST_TYPE",
    set: (d, value, cx) => {
      const t = parseDigestName(value);
      if (t === undefined) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `HMAC_DIGEST_TYPE argument '${value}' must be one of {md5,sha1,sha256,sha384,sha512,sha3_256,sha3_512}`,
        );
      }
      d.values.hmacType = t;
    },
  },
  {
    name: "ENCRYPTION_MODE",
    set: (d, value, cx) => {
      const m = parseEncryptionMode(value);
      if (m === undefined) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `Unrecognized ENCRYPTION_MODE '${value}', use {CBC,ECB,CFB,OFB,CTR,legacy,Asymmetric}`,
        );
      }
      d.values.encMode = m;
    },
  },
  {
    name: "FW_ACCESS_TIMEOUT",
    set: (d, value, cx) => {
      d.values.fwAccessTimeout = timeout(value, cx, 0);
    },
  },
  {
    name: "MAX_FW_TIMEOUT",
    set: (d, value, cx) => {
      d.values.maxFwTimeout = timeout(value, cx, 0);
    },
  },
  flag("ENABLE_CMD_EXEC", "enableCmdExec"),
  flag("ENABLE_CMD_SUDO_EXEC", "enableCmdSudoExec"),
  execUserVariable("CMD_EXEC_USER", "cmdExecUser"),
  execUserVariable("CMD_SUDO_EXEC_USER", "cmdSudoExecUser"),
  execGroupVariable("CMD_EXEC_GROUP", "cmdExecGroup"),
  execGroupVariable("CMD_SUDO_EXEC_GROUP", "cmdSudoExecGroup"),
  text("CMD_CYCLE_OPEN", "cmdCycleOpen"),
  text("CMD_CYCLE_CLOSE", "cmdCycleClose"),
  {
    name: "CMD_CYCLE_TIMER",
    set: (d, value, cx) => {
      d.values.cmdCycleTimer = timeout(value, cx, 1);
    },
  },
  text("REQUIRE_USERNAME", "requireUsername"),
  flag("REQUIRE_SOURCE_ADDRESS", "requireSourceAddress"),
  flag("REQUIRE_SOURCE", "requireSourceAddress"),
  {
    name: "GPG_HOME_DIR",
    set: (d, value, cx) => {
      if (!isDirectory(value)) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `GPG_HOME_DIR directory '${value}' stat()/existence problem in stanza source '${d.sourceText}'`,
        );
      }
      d.values.gpgHomeDir = value;
    },
  },
  text("GPG_EXE", "gpgExe"),
  text("GPG_DECRYPT_ID", "gpgDecryptId", true),
  {
    name: "GPG_DECRYPT_PW",
    keyFile: true,
    set: (d, value, cx) => {
      rejectChangeme(d, value, cx);
      d.values.gpgDecryptPw = value;
      d.gpgPwBytes = Buffer.from(value, cx.encoding);
      d.useGpg = true;
    },
  },
  {
    name: "GPG_ALLOW_NO_PW",
    keyFile: true,
    set: (d, value) => {
      d.values.gpgAllowNoPw = yes(value);
      if (d.values.gpgAllowNoPw) {
        d.useGpg = true;
        d.values.gpgDecryptPw = "";
        d.gpgPwBytes = Buffer.alloc(0);
      }
    },
  },
  flag("GPG_REQUIRE_SIG", "gpgRequireSig", true),
  flag("GPG_DISABLE_SIG", "gpgDisableSig", true),
  flag("GPG_IGNORE_SIG_VERIFY_ERROR", "gpgIgnoreSigVerifyError", true),
  list("GPG_REMOTE_ID", "gpgRemoteIds", true),
  list("GPG_FINGERPRINT_ID", "gpgFingerprintIds", true),
  {
    name: "ACCESS_EXPIRE",
    set: (d, value, cx) => {
      const t = parseAccessExpire(value);
      if (t === undefined) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `Fatal: invalid date value '${value}' (need MM/DD/YYYY) for access stanza expiration time`,
        );
      }
      d.values.accessExpire = t;
    },
  },
  {
    name: "ACCESS_EXPIRE_EPOCH",
    set: (d, value, cx) => {
      const n = parseCInt(value).value;
      if (n < 0 || !Number.isSafeInteger(n)) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `Fatal: invalid epoch seconds value '${value}' for access stanza expiration time`,
        );
      }
      if (n > 0) d.values.accessExpire = n;
      else delete d.values.accessExpire;
    },
  },
  {
    name: "FORCE_NAT",
    set: (d, value, cx) => {
      requireNat(cx);
      // sscanf("%15s %5u"): an address of up to 15 characters, then up to 5 digits; unlike
      // 2.6.10 nothing may follow ("22x" is refused, not read as 22).
      const m = /^(\S{1,15})\s+\+?(\d{1,5})\s*$/.exec(value);
      if (!m?.[1] || m[2] === undefined) {
        failAt(
          "FWK_ERR_CONFIG_VALUE",
          cx.where,
          `Fatal: invalid FORCE_NAT arg '${value}', need <IP> <PORT>`,
        );
      }
      const port = Number(m[2]);
      if (port > 65535)
        failAt("FWK_ERR_CONFIG_VALUE", cx.where, `Fatal: invalid FORCE_NAT port '${port}'`);
      if (!isValidIpv4Addr(m[1]))
        failAt("FWK_ERR_CONFIG_VALUE", cx.where, `Fatal: invalid FORCE_NAT IP '${m[1]}'`);
      // One canonical text for the rules (192.000.002.005 is 192.0.2.5, as netfilter reads it).
      d.values.forceNat = { ip: canonicalIpv4(m[1]) ?? m[1], port };
    },
  },
  {
    name: "FORCE_SNAT",
    set: (d, value, cx) => {
      requireNat(cx);
      const ip = value.split(/\s/)[0]?.slice(0, 15) ?? "";
      if (!isValidIpv4Addr(ip))
        failAt("FWK_ERR_CONFIG_VALUE", cx.where, `Fatal: invalid FORCE_SNAT IP '${ip}'`);
      d.values.forceSnat = canonicalIpv4(ip) ?? ip;
      d.wantsSnat = true;
    },
  },
  {
    name: "FORCE_MASQUERADE",
    set: (d, value) => {
      d.values.forceMasquerade = yes(value);
      d.wantsSnat = d.values.forceMasquerade;
    },
  },
  flag("DISABLE_DNAT", "disableDnat"),
  flag("FORWARD_ALL", "forwardAll"),
];

const BY_NAME = new Map(ACCESS_VARIABLES.map((v) => [v.name, v]));

/** The table entry for an access.conf variable name, if it is one. */
export function accessVariable(name: string): AccessVariable | undefined {
  return BY_NAME.get(name);
}
