/**
 * access.conf loading: stanzas (each SOURCE line starts one), %include / %include_folder /
 * %include_keys, per-stanza validation when the stanza ends (fwknopd's acc_data_is_valid), then
 * list expansion and defaults (set_acc_defaults). Fatal problems throw FwknopError with
 * "file:line: what is wrong"; the same texts as upstream where an operator may grep for them.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ErrorCode, FwknopError } from "../errors.js";
import { b64Decode, isBase64Text } from "../protocol/base64.js";
import {
  type DigestName,
  type EncryptionMode,
  parseDigestName,
  parseEncryptionMode,
} from "../protocol/constants.js";
import { type AddressList, isValidIpv4Addr, parseAddressList } from "./address-list.js";
import { type PortSpec, parsePortList } from "./port-list.js";
import { natEnabled, readConfigText, type ServerConfig } from "./server-config.js";
import { FIREWALL_PREFIX } from "./server-variables.js";
import { type ConfigLine, parseCInt, tokenizeConfig } from "./tokenizer.js";

export interface AccessStanza {
  /** 1-based position in the final stanza list. */
  index: number;
  /** File and line of the SOURCE line that opened the stanza. */
  file: string;
  line: number;
  source: AddressList;
  destination?: AddressList;
  openPorts?: PortSpec[];
  restrictPorts?: PortSpec[];
  key?: Buffer;
  hmacKey?: Buffer;
  /** HMAC algorithm; sha256 unless HMAC_DIGEST_TYPE says otherwise (meaningful with hmacKey). */
  hmacType: DigestName;
  encMode: EncryptionMode;
  fwAccessTimeout: number;
  maxFwTimeout: number;
  enableCmdExec: boolean;
  enableCmdSudoExec: boolean;
  cmdExecUser?: string;
  cmdExecGroup?: string;
  cmdSudoExecUser?: string;
  cmdSudoExecGroup?: string;
  /** Resolved ids for the names above (setuid/setgid and sudo -u/-g). */
  cmdExecUid?: number;
  cmdExecGid?: number;
  cmdSudoExecUid?: number;
  cmdSudoExecGid?: number;
  cmdCycleOpen?: string;
  cmdCycleClose?: string;
  cmdCycleTimer?: number;
  requireUsername?: string;
  requireSourceAddress: boolean;
  /** Unix seconds after which the stanza no longer matches. */
  accessExpire?: number;
  gpgHomeDir?: string;
  gpgExe?: string;
  gpgDecryptId?: string;
  gpgDecryptPw?: string;
  gpgAllowNoPw: boolean;
  gpgRequireSig: boolean;
  gpgDisableSig: boolean;
  gpgIgnoreSigVerifyError: boolean;
  gpgRemoteIds?: string[];
  gpgFingerprintIds?: string[];
  forceNat?: { ip: string; port: number };
  forceSnat?: string;
  forceMasquerade: boolean;
  disableDnat: boolean;
  forwardAll: boolean;
}

export interface AccessConfigOptions {
  /** access.conf path; ignored when `folder` is given. Defaults from the server config. */
  file?: string | undefined;
  /** --access-folder / ACCESS_FOLDER: every *.conf file in it instead of the access file. */
  folder?: string | undefined;
  server: ServerConfig;
  warn?: ((msg: string) => void) | undefined;
  info?: ((msg: string) => void) | undefined;
}

/** fwknopd's MAX_DEPTH: a root file may include a file that includes one more. */
const MAX_INCLUDE_DEPTH = 3;
/** Bound for %include_folder nesting, which upstream does not limit at all. */
const MAX_FOLDER_DEPTH = 8;
const MAX_TIMEOUT = 8388608;
/** CMD_CYCLE_BUFSIZE: command strings must be shorter. */
const CMD_CYCLE_MAX = 256;
const DEFAULT_FW_ACCESS_TIMEOUT = 30;
const DEFAULT_MAX_FW_TIMEOUT = 300;
const CHANGEME = "__changeme__";

/** Names %include_keys accepts; everything else in a key file is ignored with a message. */
const KEY_FILE_NAMES = new Set([
  "KEY",
  "KEY_BASE64",
  "HMAC_KEY_BASE64",
  "HMAC_KEY",
  "GPG_DECRYPT_ID",
  "GPG_DECRYPT_PW",
  "GPG_ALLOW_NO_PW",
  "GPG_REQUIRE_SIG",
  "GPG_DISABLE_SIG",
  "GPG_IGNORE_SIG_VERIFY_ERROR",
  "GPG_REMOTE_ID",
  "GPG_FINGERPRINT_ID",
]);

interface Located {
  text: string;
  where: string;
}

/** A stanza while its lines are read; list values stay text until the whole file set is read. */
interface Draft {
  file: string;
  line: number;
  sourceText: string;
  destination?: Located;
  openPorts?: Located;
  restrictPorts?: Located;
  gpgRemoteIds?: Located;
  gpgFingerprintIds?: Located;
  key?: Buffer;
  hmacKey?: Buffer;
  hmacType?: DigestName;
  encMode?: EncryptionMode;
  useRijndael: boolean;
  useGpg: boolean;
  fwAccessTimeout: number;
  maxFwTimeout: number;
  enableCmdExec: boolean;
  enableCmdSudoExec: boolean;
  cmdExecUser?: { name: string; uid: number; gid: number };
  cmdExecGroup?: { name: string; gid: number };
  cmdSudoExecUser?: { name: string; uid: number; gid: number };
  cmdSudoExecGroup?: { name: string; gid: number };
  cmdCycleOpen?: string;
  cmdCycleClose?: string;
  cmdCycleTimer?: number;
  requireUsername?: string;
  requireSourceAddress: boolean;
  accessExpire?: number;
  gpgHomeDir?: string;
  gpgExe?: string;
  gpgDecryptId?: string;
  gpgDecryptPw?: string;
  /** The passphrase as file bytes, to compare with the HMAC key. */
  gpgPwBytes?: Buffer;
  gpgAllowNoPw: boolean;
  gpgRequireSig: boolean;
  gpgDisableSig: boolean;
  gpgIgnoreSigVerifyError: boolean;
  forceNat?: { ip: string; port: number };
  forceSnat?: string;
  /** FORCE_SNAT or FORCE_MASQUERADE was given (upstream's force_snat flag). */
  wantsSnat: boolean;
  forceMasquerade: boolean;
  disableDnat: boolean;
  forwardAll: boolean;
  /** Messages already logged for this stanza (a stanza can be checked twice). */
  said: Set<string>;
}

function newDraft(file: string, line: number, sourceText: string): Draft {
  return {
    file,
    line,
    sourceText,
    useRijndael: false,
    useGpg: false,
    fwAccessTimeout: 0,
    maxFwTimeout: 0,
    enableCmdExec: false,
    enableCmdSudoExec: false,
    requireSourceAddress: false,
    gpgAllowNoPw: false,
    gpgRequireSig: false,
    gpgDisableSig: false,
    gpgIgnoreSigVerifyError: false,
    wantsSnat: false,
    forceMasquerade: false,
    disableDnat: false,
    forwardAll: false,
    said: new Set(),
  };
}

function yes(value: string): boolean {
  return /^y/i.test(value);
}

function fail(code: ErrorCode, where: string, msg: string): never {
  throw new FwknopError(code, `${where}: ${msg}`);
}

interface PasswdEntry {
  uid: number;
  gid: number;
}

/** name → ids from a colon-separated database file (/etc/passwd or /etc/group). */
function readIdFile(path: string, gidField: number): Map<string, PasswdEntry> {
  const out = new Map<string, PasswdEntry>();
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    const name = f[0];
    if (!name || f.length <= gidField) continue;
    out.set(name, { uid: Number(f[2]), gid: Number(f[gidField]) });
  }
  return out;
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

/** Comma list with whitespace skipped before each entry (GPG_REMOTE_ID, GPG_FINGERPRINT_ID). */
function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

class AccessLoader {
  readonly stanzas: Draft[] = [];
  private depth = 0;
  private readonly open: string[] = [];
  private readonly users = readIdFile("/etc/passwd", 3);
  private groups: Map<string, PasswdEntry> | undefined;
  private readonly server: ServerConfig;
  private readonly warn: (msg: string) => void;
  private readonly info: (msg: string) => void;

  constructor(server: ServerConfig, warn: (msg: string) => void, info: (msg: string) => void) {
    this.server = server;
    this.warn = warn;
    this.info = info;
  }

  parseFile(path: string, ref?: string): void {
    const key = resolve(path);
    if (this.open.includes(key)) {
      fail("FWK_ERR_CONFIG_INCLUDE", ref ?? path, `Refusing to include '${path}' again (loop)`);
    }
    const { text, encoding } = readConfigText(path, "Access file", this.warn, ref);
    const invalid: { line: number; raw: string }[] = [];
    const lines = tokenizeConfig(text, path, {
      stripNameColon: true,
      onInvalid: (line, raw) => invalid.push({ line, raw }),
    });
    const badEntry = (bad: { line: number; raw: string }): never =>
      fail(
        "FWK_ERR_CONFIG_ENTRY",
        `${path}:${bad.line}`,
        `Invalid access file entry (a name without a value): '${bad.raw}'`,
      );
    this.depth++;
    this.open.push(key);
    let cur: Draft | undefined;
    for (const entry of lines) {
      const bad = invalid[0];
      if (bad && bad.line < entry.line) badEntry(bad);
      cur = this.apply(entry, cur, encoding);
    }
    const bad = invalid[0];
    if (bad) badEntry(bad);
    if (cur) this.close(cur);
    this.open.pop();
    this.depth--;
  }

  parseFolder(dir: string, ref?: string): void {
    const folder = dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      fail(
        "FWK_ERR_CONFIG_FILE_MISSING",
        ref ?? folder,
        `Access folder: '${folder}' could not be opened.`,
      );
    }
    if (this.depth >= MAX_FOLDER_DEPTH) {
      fail("FWK_ERR_CONFIG_INCLUDE", ref ?? folder, `Refusing to go deeper into '${folder}'`);
    }
    // Upstream takes readdir order; we sort so the stanza order does not depend on the filesystem.
    for (const name of names.sort()) {
      const dot = name.lastIndexOf(".");
      if (dot < 0 || !name.slice(dot).startsWith(".conf")) continue;
      const path = join(folder, name);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) continue;
      this.parseFile(path, ref);
    }
  }

  /** One line of an access file; returns the stanza that later lines of this file belong to. */
  private apply(
    { name, value, file, line }: ConfigLine,
    cur: Draft | undefined,
    encoding: BufferEncoding,
  ): Draft | undefined {
    const where = `${file}:${line}`;
    if (name === "%include") {
      if (this.depth >= MAX_INCLUDE_DEPTH) {
        fail(
          "FWK_ERR_CONFIG_INCLUDE",
          where,
          `Refusing to go deeper than ${MAX_INCLUDE_DEPTH} levels. Lost in Limbo: '${file}'`,
        );
      }
      this.parseFile(value, where);
      return cur;
    }
    if (name === "%include_folder") {
      this.parseFolder(value, where);
      return cur;
    }
    if (name === "SOURCE") {
      if (cur) this.close(cur);
      const next = newDraft(file, line, value);
      this.stanzas.push(next);
      return next;
    }
    if (!cur) {
      this.warn(`${where}: '${name}' before the first SOURCE line is ignored`);
      return cur;
    }
    if (name === "%include_keys") {
      this.includeKeys(cur, value, where);
      const problem = this.check(cur);
      if (problem) {
        this.warn(
          `${where}: ${problem.msg}; data error in included keyfile '${value}', skipping stanza.`,
        );
        this.stanzas.splice(this.stanzas.indexOf(cur), 1);
        return undefined;
      }
      return cur;
    }
    if (!this.setVariable(cur, name, value, where, encoding)) {
      this.warn(`Ignoring unknown access parameter: '${name}' in ${where}`);
    }
    return cur;
  }

  private includeKeys(d: Draft, path: string, where: string): void {
    this.info(`Including key file: '${path}'`);
    let text: string;
    let encoding: BufferEncoding;
    try {
      ({ text, encoding } = readConfigText(path, "Key file", this.warn, where));
    } catch (e) {
      // Upstream carries on; the stanza check that follows decides whether the stanza survives.
      this.warn(e instanceof Error ? e.message : String(e));
      return;
    }
    // Upstream stops reading a key file at its first bad line and keeps what it read so far;
    // the stanza check that follows decides whether the stanza survives.
    let firstBad = Number.POSITIVE_INFINITY;
    const lines = tokenizeConfig(text, path, {
      stripNameColon: true,
      onInvalid: (line, raw) => {
        if (line >= firstBad) return;
        firstBad = line;
        this.warn(`${path}:${line}: Invalid access file entry (a name without a value): '${raw}'`);
      },
    });
    for (const l of lines) {
      if (l.line > firstBad) break;
      if (!KEY_FILE_NAMES.has(l.name)) {
        this.info(`${path}:${l.line}: Ignoring invalid entry: '${l.name}'`);
        continue;
      }
      try {
        this.setVariable(d, l.name, l.value, `${path}:${l.line}`, encoding);
      } catch (e) {
        if (!(e instanceof FwknopError)) throw e;
        this.warn(e.message);
        break;
      }
    }
  }

  private user(name: string): PasswdEntry | undefined {
    return this.users.get(name);
  }

  /** CMD_*_GROUP: upstream looks the name up as a *user* (its primary group); we also take groups. */
  private group(name: string): number | undefined {
    const asUser = this.users.get(name);
    if (asUser) return asUser.gid;
    this.groups ??= readIdFile("/etc/group", 2);
    return this.groups.get(name)?.gid;
  }

  private rejectChangeme(d: Draft, name: string, value: string, where: string): void {
    if (value.toLowerCase() === CHANGEME) {
      fail(
        "FWK_ERR_CONFIG_KEY",
        where,
        `${name} value is not properly set in stanza source '${d.sourceText}' (still __CHANGEME__)`,
      );
    }
  }

  private base64(d: Draft, name: string, value: string, where: string): Buffer {
    this.rejectChangeme(d, name, value, where);
    const decoded = isBase64Text(value) ? b64Decode(value) : undefined;
    if (decoded === undefined) {
      fail(
        "FWK_ERR_CONFIG_KEY",
        where,
        `${name} argument '${value}' doesn't look like base64-encoded data.`,
      );
    }
    return decoded;
  }

  private timeout(name: string, value: string, where: string, min: number): number {
    const { value: n, trailing } = parseCInt(value);
    if (n < min || n > MAX_TIMEOUT) {
      fail(
        "FWK_ERR_CONFIG_RANGE",
        where,
        `${name} value '${value}' not in range [${min},${MAX_TIMEOUT}].`,
      );
    }
    if (trailing) this.warn(`${where}: ${name} value '${value}' read as ${n}`);
    return n;
  }

  private requireNat(name: string, where: string): void {
    if (natEnabled(this.server)) return;
    const p = FIREWALL_PREFIX[this.server.firewallType];
    fail(
      "FWK_ERR_CONFIG_STANZA",
      where,
      `${name} requires either ENABLE_${p}_FORWARDING or ENABLE_${p}_LOCAL_NAT in fwknopd.conf`,
    );
  }

  /** Apply one stanza variable; false when the name is not an access.conf variable. */
  private setVariable(
    d: Draft,
    name: string,
    value: string,
    where: string,
    encoding: BufferEncoding,
  ): boolean {
    switch (name) {
      case "DESTINATION":
        d.destination = { text: value, where };
        return true;
      case "OPEN_PORTS":
        d.openPorts = { text: value, where };
        return true;
      case "RESTRICT_PORTS":
        d.restrictPorts = { text: value, where };
        return true;
      case "KEY":
        this.rejectChangeme(d, name, value, where);
        d.key = Buffer.from(value, encoding);
        d.useRijndael = true;
        return true;
      case "KEY_BASE64":
        d.key = this.base64(d, name, value, where);
        d.useRijndael = true;
        return true;
      case "HMAC_KEY":
        this.rejectChangeme(d, name, value, where);
        d.hmacKey = Buffer.from(value, encoding);
        return true;
      case "HMAC_KEY_BASE64":
        d.hmacKey = this.base64(d, name, value, where);
        return true;
      case "HMAC_DIGEST_TYPE": {
        const t = parseDigestName(value);
        if (t === undefined) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `HMAC_DIGEST_TYPE argument '${value}' must be one of {md5,sha1,sha256,sha384,sha512,sha3_256,sha3_512}`,
          );
        }
        d.hmacType = t;
        return true;
      }
      case "ENCRYPTION_MODE": {
        const m = parseEncryptionMode(value);
        if (m === undefined) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `Unrecognized ENCRYPTION_MODE '${value}', use {CBC,ECB,CFB,OFB,CTR,legacy,Asymmetric}`,
          );
        }
        d.encMode = m;
        return true;
      }
      case "FW_ACCESS_TIMEOUT":
        d.fwAccessTimeout = this.timeout(name, value, where, 0);
        return true;
      case "MAX_FW_TIMEOUT":
        d.maxFwTimeout = this.timeout(name, value, where, 0);
        return true;
      case "ENABLE_CMD_EXEC":
        d.enableCmdExec = yes(value);
        return true;
      case "ENABLE_CMD_SUDO_EXEC":
        d.enableCmdSudoExec = yes(value);
        return true;
      case "CMD_EXEC_USER":
      case "CMD_SUDO_EXEC_USER": {
        const pw = this.user(value);
        if (!pw) {
          fail(
            "FWK_ERR_CONFIG_USER",
            where,
            `Unable to determine UID for ${name}: '${value}' is not a user on this system.`,
          );
        }
        const entry = { name: value, uid: pw.uid, gid: pw.gid };
        if (name === "CMD_EXEC_USER") d.cmdExecUser = entry;
        else d.cmdSudoExecUser = entry;
        return true;
      }
      case "CMD_EXEC_GROUP":
      case "CMD_SUDO_EXEC_GROUP": {
        const gid = this.group(value);
        if (gid === undefined) {
          fail(
            "FWK_ERR_CONFIG_USER",
            where,
            `Unable to determine GID for ${name}: '${value}' is not a group on this system.`,
          );
        }
        if (name === "CMD_EXEC_GROUP") d.cmdExecGroup = { name: value, gid };
        else d.cmdSudoExecGroup = { name: value, gid };
        return true;
      }
      case "CMD_CYCLE_OPEN":
        d.cmdCycleOpen = value;
        return true;
      case "CMD_CYCLE_CLOSE":
        d.cmdCycleClose = value;
        return true;
      case "CMD_CYCLE_TIMER":
        d.cmdCycleTimer = this.timeout(name, value, where, 1);
        return true;
      case "REQUIRE_USERNAME":
        d.requireUsername = value;
        return true;
      case "REQUIRE_SOURCE_ADDRESS":
      case "REQUIRE_SOURCE":
        d.requireSourceAddress = yes(value);
        return true;
      case "GPG_HOME_DIR":
        if (!statSync(value, { throwIfNoEntry: false })?.isDirectory()) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `GPG_HOME_DIR directory '${value}' stat()/existence problem in stanza source '${d.sourceText}'`,
          );
        }
        d.gpgHomeDir = value;
        return true;
      case "GPG_EXE":
        d.gpgExe = value;
        return true;
      case "GPG_DECRYPT_ID":
        d.gpgDecryptId = value;
        return true;
      case "GPG_DECRYPT_PW":
        this.rejectChangeme(d, name, value, where);
        d.gpgDecryptPw = value;
        d.gpgPwBytes = Buffer.from(value, encoding);
        d.useGpg = true;
        return true;
      case "GPG_ALLOW_NO_PW":
        d.gpgAllowNoPw = yes(value);
        if (d.gpgAllowNoPw) {
          d.useGpg = true;
          d.gpgDecryptPw = "";
          d.gpgPwBytes = Buffer.alloc(0);
        }
        return true;
      case "GPG_REQUIRE_SIG":
        d.gpgRequireSig = yes(value);
        return true;
      case "GPG_DISABLE_SIG":
        d.gpgDisableSig = yes(value);
        return true;
      case "GPG_IGNORE_SIG_VERIFY_ERROR":
        d.gpgIgnoreSigVerifyError = yes(value);
        return true;
      case "GPG_REMOTE_ID":
        d.gpgRemoteIds = { text: value, where };
        return true;
      case "GPG_FINGERPRINT_ID":
        d.gpgFingerprintIds = { text: value, where };
        return true;
      case "ACCESS_EXPIRE": {
        const t = parseAccessExpire(value);
        if (t === undefined) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `Fatal: invalid date value '${value}' (need MM/DD/YYYY) for access stanza expiration time`,
          );
        }
        d.accessExpire = t;
        return true;
      }
      case "ACCESS_EXPIRE_EPOCH": {
        const n = parseCInt(value).value;
        if (n < 0 || !Number.isSafeInteger(n)) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `Fatal: invalid epoch seconds value '${value}' for access stanza expiration time`,
          );
        }
        if (n > 0) d.accessExpire = n;
        else delete d.accessExpire;
        return true;
      }
      case "FORCE_NAT": {
        this.requireNat(name, where);
        // sscanf("%15s %5u"): an address of up to 15 characters, then up to 5 digits.
        const m = /^(\S{1,15})\s+\+?(\d{1,5})/.exec(value);
        if (!m?.[1] || m[2] === undefined) {
          fail(
            "FWK_ERR_CONFIG_VALUE",
            where,
            `Fatal: invalid FORCE_NAT arg '${value}', need <IP> <PORT>`,
          );
        }
        const port = Number(m[2]);
        if (port > 65535)
          fail("FWK_ERR_CONFIG_VALUE", where, `Fatal: invalid FORCE_NAT port '${port}'`);
        if (!isValidIpv4Addr(m[1]))
          fail("FWK_ERR_CONFIG_VALUE", where, `Fatal: invalid FORCE_NAT IP '${m[1]}'`);
        d.forceNat = { ip: m[1], port };
        return true;
      }
      case "FORCE_SNAT": {
        this.requireNat(name, where);
        const ip = value.split(/\s/)[0]?.slice(0, 15) ?? "";
        if (!isValidIpv4Addr(ip))
          fail("FWK_ERR_CONFIG_VALUE", where, `Fatal: invalid FORCE_SNAT IP '${ip}'`);
        d.forceSnat = ip;
        d.wantsSnat = true;
        return true;
      }
      case "FORCE_MASQUERADE":
        d.forceMasquerade = yes(value);
        d.wantsSnat = d.forceMasquerade;
        return true;
      case "DISABLE_DNAT":
        d.disableDnat = yes(value);
        return true;
      case "FORWARD_ALL":
        d.forwardAll = yes(value);
        return true;
      default:
        return false;
    }
  }

  private say(d: Draft, msg: string): void {
    if (d.said.has(msg)) return;
    d.said.add(msg);
    this.info(msg);
  }

  /**
   * fwknopd's acc_data_is_valid(): returns the problem that makes the stanza unusable, after
   * applying its side effects (legacy key truncation, implicit FORCE_NAT for FORWARD_ALL).
   */
  private check(d: Draft): { code: ErrorCode; msg: string } | undefined {
    const src = d.sourceText;
    const hasKey = d.key !== undefined && d.key.length > 0;
    const hasPw = d.gpgDecryptPw !== undefined && d.gpgDecryptPw.length > 0;
    if (
      (!hasKey && !hasPw && !d.gpgAllowNoPw) ||
      (!d.useRijndael && !d.useGpg && !d.gpgAllowNoPw)
    ) {
      return {
        code: "FWK_ERR_CONFIG_KEY",
        msg: `No keys found for access stanza source: '${src}'`,
      };
    }
    if (d.useRijndael && d.key && d.encMode === "legacy" && d.key.length > 16) {
      this.say(
        d,
        `Warning: truncating encryption key in legacy mode to 16 bytes for access stanza source: '${src}'`,
      );
      d.key = d.key.subarray(0, 16);
    }
    if (d.hmacKey && d.hmacKey.length > 0) {
      // As upstream: the GPG passphrase is compared only when the key's length differs.
      const same =
        hasKey && d.key?.length === d.hmacKey.length
          ? d.key.equals(d.hmacKey)
          : !d.gpgAllowNoPw && d.gpgPwBytes?.equals(d.hmacKey) === true;
      if (same) {
        return {
          code: "FWK_ERR_CONFIG_KEY",
          msg: `The encryption passphrase and HMAC key should not be identical for access stanza source: '${src}'`,
        };
      }
    }
    if (d.wantsSnat && d.forceNat === undefined) {
      if (!d.forwardAll) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `FORCE_SNAT/FORCE_MASQUERADE requires either FORCE_NAT or FORWARD_ALL: '${src}'`,
        };
      }
      d.forceNat = { ip: "0.0.0.0", port: 0 };
    }
    if (!d.requireSourceAddress) {
      this.say(d, `Warning: REQUIRE_SOURCE_ADDRESS not enabled for access stanza source: '${src}'`);
    }
    if (d.cmdExecUser && d.cmdExecUser.uid !== 0 && !d.cmdExecGroup) {
      this.say(
        d,
        `Setting gid to group associated with CMD_EXEC_USER '${d.cmdExecUser.name}' for setgid() execution in stanza source: '${src}'`,
      );
    }
    if (d.cmdSudoExecUser && d.cmdSudoExecUser.uid !== 0 && !d.cmdSudoExecGroup) {
      this.say(
        d,
        `Setting gid to group associated with CMD_SUDO_EXEC_USER '${d.cmdSudoExecUser.name}' in stanza source: '${src}'`,
      );
    }
    const open = d.cmdCycleOpen;
    const close = d.cmdCycleClose;
    if (open !== undefined) {
      if (close === undefined) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `Cannot set CMD_CYCLE_OPEN without also setting CMD_CYCLE_CLOSE: '${src}'`,
        };
      }
      if (d.cmdCycleTimer === undefined && !close.startsWith("NONE")) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `Must set the CMD_CYCLE_TIMER for command cycle functionality: '${src}'`,
        };
      }
      if (open.length >= CMD_CYCLE_MAX) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `CMD_CYCLE_OPEN command is too long (${open.length} characters, max ${CMD_CYCLE_MAX - 1}): '${src}'`,
        };
      }
    }
    if (close !== undefined) {
      if (open === undefined) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `Cannot set CMD_CYCLE_CLOSE without also setting CMD_CYCLE_OPEN: '${src}'`,
        };
      }
      if (close.length >= CMD_CYCLE_MAX) {
        return {
          code: "FWK_ERR_CONFIG_STANZA",
          msg: `CMD_CYCLE_CLOSE command is too long (${close.length} characters, max ${CMD_CYCLE_MAX - 1}): '${src}'`,
        };
      }
    }
    return undefined;
  }

  /** End of a stanza (next SOURCE or end of its file): an unusable stanza is fatal. */
  private close(d: Draft): void {
    const problem = this.check(d);
    if (problem) fail(problem.code, `${d.file}:${d.line}`, problem.msg);
  }

  /** Lists, defaults and GPG checks (upstream's expand_acc_ent_lists + set_acc_defaults). */
  finish(d: Draft, index: number): AccessStanza {
    const at = `${d.file}:${d.line}`;
    const source = parseAddressList(d.sourceText);
    if (!source.ok)
      fail("FWK_ERR_CONFIG_ADDRESS", at, `Fatal invalid SOURCE in access stanza: ${source.detail}`);
    const s: AccessStanza = {
      index,
      file: d.file,
      line: d.line,
      source: source.value,
      hmacType: d.hmacType ?? "sha256",
      encMode: d.encMode ?? "CBC",
      fwAccessTimeout: d.fwAccessTimeout < 1 ? DEFAULT_FW_ACCESS_TIMEOUT : d.fwAccessTimeout,
      maxFwTimeout: d.maxFwTimeout < 1 ? DEFAULT_MAX_FW_TIMEOUT : d.maxFwTimeout,
      enableCmdExec: d.enableCmdExec,
      enableCmdSudoExec: d.enableCmdSudoExec,
      requireSourceAddress: d.requireSourceAddress,
      gpgAllowNoPw: d.gpgAllowNoPw,
      gpgRequireSig: d.gpgRequireSig,
      gpgDisableSig: d.gpgDisableSig,
      gpgIgnoreSigVerifyError: d.gpgIgnoreSigVerifyError,
      forceMasquerade: d.forceMasquerade,
      disableDnat: d.disableDnat,
      forwardAll: d.forwardAll,
    };
    if (d.destination && d.destination.text !== "") {
      const dst = parseAddressList(d.destination.text);
      if (!dst.ok)
        fail(
          "FWK_ERR_CONFIG_ADDRESS",
          d.destination.where,
          `Fatal invalid DESTINATION in access stanza: ${dst.detail}`,
        );
      s.destination = dst.value;
    }
    for (const [field, name] of [
      ["openPorts", "OPEN_PORTS"],
      ["restrictPorts", "RESTRICT_PORTS"],
    ] as const) {
      const text = d[field];
      if (!text) continue;
      const ports = parsePortList(text.text);
      if (!ports.ok)
        fail(
          "FWK_ERR_CONFIG_PORTS",
          text.where,
          `Fatal invalid ${name} in access stanza: ${ports.detail}`,
        );
      s[field] = ports.value;
    }
    if (d.gpgRemoteIds) s.gpgRemoteIds = splitList(d.gpgRemoteIds.text);
    if (d.gpgFingerprintIds) s.gpgFingerprintIds = splitList(d.gpgFingerprintIds.text);
    if (d.key) s.key = d.key;
    if (d.hmacKey && d.hmacKey.length > 0) s.hmacKey = d.hmacKey;
    const copy = <K extends keyof AccessStanza & keyof Draft>(k: K) => {
      const v = d[k];
      if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
    };
    for (const k of [
      "cmdCycleOpen",
      "cmdCycleClose",
      "cmdCycleTimer",
      "requireUsername",
      "accessExpire",
      "gpgHomeDir",
      "gpgExe",
      "gpgDecryptId",
      "gpgDecryptPw",
      "forceNat",
      "forceSnat",
    ] as const) {
      copy(k);
    }
    if (d.cmdExecUser) {
      s.cmdExecUser = d.cmdExecUser.name;
      s.cmdExecUid = d.cmdExecUser.uid;
      // A non-root CMD_EXEC_USER without CMD_EXEC_GROUP runs with that user's primary group.
      if (!d.cmdExecGroup && d.cmdExecUser.uid !== 0) s.cmdExecGid = d.cmdExecUser.gid;
    }
    if (d.cmdExecGroup) {
      s.cmdExecGroup = d.cmdExecGroup.name;
      s.cmdExecGid = d.cmdExecGroup.gid;
    }
    if (d.cmdSudoExecUser) {
      s.cmdSudoExecUser = d.cmdSudoExecUser.name;
      s.cmdSudoExecUid = d.cmdSudoExecUser.uid;
      if (!d.cmdSudoExecGroup && d.cmdSudoExecUser.uid !== 0)
        s.cmdSudoExecGid = d.cmdSudoExecUser.gid;
    }
    if (d.cmdSudoExecGroup) {
      s.cmdSudoExecGroup = d.cmdSudoExecGroup.name;
      s.cmdSudoExecGid = d.cmdSudoExecGroup.gid;
    }
    if (s.maxFwTimeout < s.fwAccessTimeout) {
      this.info(
        `Warning: MAX_FW_TIMEOUT < FW_ACCESS_TIMEOUT, honoring MAX_FW_TIMEOUT for stanza source: '${d.sourceText}' (#${index})`,
      );
    }
    if (d.gpgDecryptPw !== undefined) this.gpgDefaults(d, s, index);
    return s;
  }

  private gpgDefaults(d: Draft, s: AccessStanza, index: number): void {
    const tag = `(stanza source: '${d.sourceText}' #${index})`;
    if (s.gpgHomeDir === undefined) {
      const home = this.server.get("GPG_HOME_DIR");
      if (home !== undefined) s.gpgHomeDir = home;
    }
    if (!s.gpgRequireSig) {
      if (s.gpgDisableSig) {
        this.info(
          `Warning: GPG_REQUIRE_SIG should really be enabled for stanza source: '${d.sourceText}' (#${index})`,
        );
      } else {
        s.gpgRequireSig = true;
      }
    } else if (s.gpgDisableSig) {
      this.info(
        `Warning: GPG_REQUIRE_SIG and GPG_DISABLE_SIG are both set, will check sigs ${tag}`,
      );
    }
    if (!s.gpgDisableSig && d.gpgRemoteIds === undefined && d.gpgFingerprintIds === undefined) {
      fail(
        "FWK_ERR_CONFIG_STANZA",
        `${d.file}:${d.line}`,
        `Must have either sig ID's or fingerprints to check via GPG_REMOTE_ID or GPG_FINGERPRINT_ID ${tag}`,
      );
    }
  }
}

export function loadAccessConfig(opts: AccessConfigOptions): AccessStanza[] {
  const warn = opts.warn ?? (() => {});
  const info = opts.info ?? (() => {});
  const loader = new AccessLoader(opts.server, warn, info);
  const folder =
    opts.folder ?? (opts.file === undefined ? opts.server.get("ACCESS_FOLDER") : undefined);
  const file = opts.file ?? opts.server.get("ACCESS_FILE") ?? "/etc/fwknop/access.conf";
  if (folder !== undefined) loader.parseFolder(folder);
  else loader.parseFile(file);
  if (loader.stanzas.length === 0) {
    const what = folder !== undefined ? `access folder: '${folder}'` : `access file: '${file}'`;
    throw new FwknopError(
      "FWK_ERR_CONFIG_NO_STANZA",
      `${folder ?? file}: Could not find valid SOURCE stanza in ${what}`,
    );
  }
  return loader.stanzas.map((d, i) => loader.finish(d, i + 1));
}
