/**
 * The access.conf stanza: `AccessStanza` is what the daemon uses; `StanzaDraft` is the same
 * stanza while its lines are read (its directly-set fields are a Partial of AccessStanza; list
 * values stay text until the whole file set is read, user/group names carry their ids).
 */
import { type ErrorCode, FwknopError } from "../errors.js";
import type { DigestName, EncryptionMode } from "../protocol/constants.js";
import type { AccountIds } from "../sys/accounts.js";
import type { AddressList } from "./address-list.js";
import type { PortSpec } from "./port-list.js";

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
  /** Each variable's value as written (its last occurrence), by upper-case name: for `-D`. */
  written?: Readonly<Record<string, string>>;
}

/** Fields built when the stanza is finished, not set by one variable as read. */
type DerivedField =
  | "index"
  | "file"
  | "line"
  | "source"
  | "written"
  | ListField
  | "cmdExecUser"
  | "cmdExecGroup"
  | "cmdSudoExecUser"
  | "cmdSudoExecGroup"
  | "cmdExecUid"
  | "cmdExecGid"
  | "cmdSudoExecUid"
  | "cmdSudoExecGid";

/** Fields whose text is parsed only after every file was read (errors name their own line). */
export type ListField =
  | "destination"
  | "openPorts"
  | "restrictPorts"
  | "gpgRemoteIds"
  | "gpgFingerprintIds";

/** The fields one access.conf variable sets as it is read. */
export type DirectFields = Omit<AccessStanza, DerivedField>;

export interface Located {
  text: string;
  where: string;
}

export interface NamedAccount extends AccountIds {
  name: string;
}

export interface StanzaDraft {
  file: string;
  line: number;
  sourceText: string;
  values: Partial<DirectFields>;
  lists: Partial<Record<ListField, Located>>;
  cmdExecUser?: NamedAccount;
  cmdExecGroup?: { name: string; gid: number };
  cmdSudoExecUser?: NamedAccount;
  cmdSudoExecGroup?: { name: string; gid: number };
  useRijndael: boolean;
  useGpg: boolean;
  /** The passphrase as file bytes, to compare with the HMAC key. */
  gpgPwBytes?: Buffer;
  /** FORCE_SNAT or FORCE_MASQUERADE was given (upstream's force_snat flag). */
  wantsSnat: boolean;
  /** Messages already logged for this stanza (a stanza can be checked twice). */
  said: Set<string>;
  /** Each variable's value as written, by upper-case name. */
  written: Record<string, string>;
}

export function newDraft(file: string, line: number, sourceText: string): StanzaDraft {
  return {
    file,
    line,
    sourceText,
    values: {},
    lists: {},
    useRijndael: false,
    useGpg: false,
    wantsSnat: false,
    said: new Set(),
    written: {},
  };
}

/** A fatal access.conf problem: "file:line: what is wrong". */
export function failAt(code: ErrorCode, where: string, msg: string): never {
  throw new FwknopError(code, `${where}: ${msg}`);
}
