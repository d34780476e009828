/**
 * fwknopd's acc_data_is_valid(): whether a stanza read so far is usable. Run when a stanza ends
 * (a problem is fatal) and after %include_keys (a problem drops the stanza with a warning).
 */
import type { ErrorCode } from "../errors.js";
import type { StanzaDraft } from "./access-stanza.js";

/** CMD_CYCLE_BUFSIZE: command strings must be shorter. */
const CMD_CYCLE_MAX = 256;

export interface StanzaProblem {
  code: ErrorCode;
  msg: string;
}

/** Log a message once per stanza (a stanza can be checked twice). */
function say(d: StanzaDraft, info: (msg: string) => void, msg: string): void {
  if (d.said.has(msg)) return;
  d.said.add(msg);
  info(msg);
}

/**
 * The problem that makes the stanza unusable, after applying the check's side effects (legacy
 * key truncation, implicit FORCE_NAT for FORWARD_ALL) as upstream does.
 */
export function checkStanza(
  d: StanzaDraft,
  info: (msg: string) => void,
): StanzaProblem | undefined {
  const v = d.values;
  const src = d.sourceText;
  const hasKey = v.key !== undefined && v.key.length > 0;
  const hasPw = v.gpgDecryptPw !== undefined && v.gpgDecryptPw.length > 0;
  const allowNoPw = v.gpgAllowNoPw === true;
  if ((!hasKey && !hasPw && !allowNoPw) || (!d.useRijndael && !d.useGpg && !allowNoPw)) {
    return {
      code: "FWK_ERR_CONFIG_KEY",
      msg: `No keys found for access stanza source: '${src}'`,
    };
  }
  if (d.useRijndael && v.key && v.encMode === "legacy" && v.key.length > 16) {
    say(
      d,
      info,
      `Warning: truncating encryption key in legacy mode to 16 bytes for access stanza source: '${src}'`,
    );
    v.key = v.key.subarray(0, 16);
  }
  if (v.hmacKey && v.hmacKey.length > 0) {
    // As upstream: the GPG passphrase is compared only when the key's length differs.
    const same =
      hasKey && v.key?.length === v.hmacKey.length
        ? v.key.equals(v.hmacKey)
        : !allowNoPw && d.gpgPwBytes?.equals(v.hmacKey) === true;
    if (same) {
      return {
        code: "FWK_ERR_CONFIG_KEY",
        msg: `The encryption passphrase and HMAC key should not be identical for access stanza source: '${src}'`,
      };
    }
  }
  if (d.wantsSnat && v.forceNat === undefined) {
    if (v.forwardAll !== true) {
      return {
        code: "FWK_ERR_CONFIG_STANZA",
        msg: `FORCE_SNAT/FORCE_MASQUERADE requires either FORCE_NAT or FORWARD_ALL: '${src}'`,
      };
    }
    v.forceNat = { ip: "0.0.0.0", port: 0 };
  }
  if (v.requireSourceAddress !== true) {
    say(d, info, `Warning: REQUIRE_SOURCE_ADDRESS not enabled for access stanza source: '${src}'`);
  }
  // 2.6.10 takes the user's group whenever the group would be root (unset or root itself).
  if (d.cmdExecUser && d.cmdExecUser.uid !== 0 && !d.cmdExecGroup?.gid) {
    say(
      d,
      info,
      `Setting gid to group associated with CMD_EXEC_USER '${d.cmdExecUser.name}' for setgid() execution in stanza source: '${src}'`,
    );
  }
  if (d.cmdSudoExecUser && d.cmdSudoExecUser.uid !== 0 && !d.cmdSudoExecGroup?.gid) {
    say(
      d,
      info,
      `Setting gid to group associated with CMD_SUDO_EXEC_USER '${d.cmdSudoExecUser.name}' in stanza source: '${src}'`,
    );
  }
  return checkCommandCycle(d);
}

function checkCommandCycle(d: StanzaDraft): StanzaProblem | undefined {
  const src = d.sourceText;
  const open = d.values.cmdCycleOpen;
  const close = d.values.cmdCycleClose;
  if (open !== undefined) {
    if (close === undefined) {
      return {
        code: "FWK_ERR_CONFIG_STANZA",
        msg: `Cannot set CMD_CYCLE_OPEN without also setting CMD_CYCLE_CLOSE: '${src}'`,
      };
    }
    if (d.values.cmdCycleTimer === undefined && !close.startsWith("NONE")) {
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
