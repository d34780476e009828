/**
 * Finishing a stanza once every file is read: list expansion (upstream's expand_acc_ent_lists),
 * defaults (set_acc_defaults) and the GPG signature defaults. Problems are fatal with file:line.
 */

import { type AccessStanza, failAt, type StanzaDraft } from "./access-stanza.js";
import { parseAddressList } from "./address-list.js";
import { parsePortList } from "./port-list.js";
import type { ServerConfig } from "./server-config.js";

/** Values of a stanza that sets none of these variables. */
export const STANZA_DEFAULTS = {
  hmacType: "sha256",
  encMode: "CBC",
  fwAccessTimeout: 30,
  maxFwTimeout: 300,
  enableCmdExec: false,
  enableCmdSudoExec: false,
  requireSourceAddress: false,
  gpgAllowNoPw: false,
  gpgRequireSig: false,
  gpgDisableSig: false,
  gpgIgnoreSigVerifyError: false,
  forceMasquerade: false,
  disableDnat: false,
  forwardAll: false,
} as const satisfies Partial<AccessStanza>;

/** Comma list with whitespace skipped before each entry (GPG_REMOTE_ID, GPG_FINGERPRINT_ID). */
function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function finishStanza(
  d: StanzaDraft,
  index: number,
  server: ServerConfig,
  info: (msg: string) => void,
): AccessStanza {
  const source = parseAddressList(d.sourceText);
  if (!source.ok) {
    failAt(
      "FWK_ERR_CONFIG_ADDRESS",
      `${d.file}:${d.line}`,
      `Fatal invalid SOURCE in access stanza: ${source.detail}`,
    );
  }
  const { fwAccessTimeout = 0, maxFwTimeout = 0, hmacKey, ...values } = d.values;
  const s: AccessStanza = {
    ...STANZA_DEFAULTS,
    ...values,
    index,
    file: d.file,
    line: d.line,
    source: source.value,
    written: { SOURCE: d.sourceText, ...d.written },
    // 0 (or unset) means the default, as upstream.
    fwAccessTimeout: fwAccessTimeout < 1 ? STANZA_DEFAULTS.fwAccessTimeout : fwAccessTimeout,
    maxFwTimeout: maxFwTimeout < 1 ? STANZA_DEFAULTS.maxFwTimeout : maxFwTimeout,
  };
  if (hmacKey && hmacKey.length > 0) s.hmacKey = hmacKey;
  expandLists(d, s);
  setAccounts(d, s);
  if (s.maxFwTimeout < s.fwAccessTimeout) {
    info(
      `Warning: MAX_FW_TIMEOUT < FW_ACCESS_TIMEOUT, honoring MAX_FW_TIMEOUT for stanza source: '${d.sourceText}' (#${index})`,
    );
  }
  if (s.gpgDecryptPw !== undefined) gpgDefaults(d, s, server, info);
  return s;
}

function expandLists(d: StanzaDraft, s: AccessStanza): void {
  const { destination, openPorts, restrictPorts, gpgRemoteIds, gpgFingerprintIds } = d.lists;
  if (destination && destination.text !== "") {
    const dst = parseAddressList(destination.text);
    if (!dst.ok) {
      failAt(
        "FWK_ERR_CONFIG_ADDRESS",
        destination.where,
        `Fatal invalid DESTINATION in access stanza: ${dst.detail}`,
      );
    }
    s.destination = dst.value;
  }
  for (const [field, name, text] of [
    ["openPorts", "OPEN_PORTS", openPorts],
    ["restrictPorts", "RESTRICT_PORTS", restrictPorts],
  ] as const) {
    if (!text) continue;
    const ports = parsePortList(text.text);
    if (!ports.ok) {
      failAt(
        "FWK_ERR_CONFIG_PORTS",
        text.where,
        `Fatal invalid ${name} in access stanza: ${ports.detail}`,
      );
    }
    s[field] = ports.value;
  }
  if (gpgRemoteIds) s.gpgRemoteIds = splitList(gpgRemoteIds.text);
  if (gpgFingerprintIds) s.gpgFingerprintIds = splitList(gpgFingerprintIds.text);
}

/** Names and ids for command execution (setuid/setgid and sudo -u/-g). */
function setAccounts(d: StanzaDraft, s: AccessStanza): void {
  if (d.cmdExecUser) {
    s.cmdExecUser = d.cmdExecUser.name;
    s.cmdExecUid = d.cmdExecUser.uid;
  }
  if (d.cmdExecGroup) {
    s.cmdExecGroup = d.cmdExecGroup.name;
    s.cmdExecGid = d.cmdExecGroup.gid;
  }
  // A non-root CMD_EXEC_USER whose group would be root (none given, or root) runs with that
  // user's primary group, as 2.6.10 does (access-validate.ts logs it).
  if (d.cmdExecUser && d.cmdExecUser.uid !== 0 && !s.cmdExecGid) s.cmdExecGid = d.cmdExecUser.gid;
  if (d.cmdSudoExecUser) {
    s.cmdSudoExecUser = d.cmdSudoExecUser.name;
    s.cmdSudoExecUid = d.cmdSudoExecUser.uid;
  }
  if (d.cmdSudoExecGroup) {
    s.cmdSudoExecGroup = d.cmdSudoExecGroup.name;
    s.cmdSudoExecGid = d.cmdSudoExecGroup.gid;
  }
  if (d.cmdSudoExecUser && d.cmdSudoExecUser.uid !== 0 && !s.cmdSudoExecGid) {
    s.cmdSudoExecGid = d.cmdSudoExecUser.gid;
  }
}

function gpgDefaults(
  d: StanzaDraft,
  s: AccessStanza,
  server: ServerConfig,
  info: (msg: string) => void,
): void {
  const index = s.index;
  const tag = `(stanza source: '${d.sourceText}' #${index})`;
  if (s.gpgHomeDir === undefined) {
    const home = server.get("GPG_HOME_DIR");
    if (home !== undefined) s.gpgHomeDir = home;
  }
  if (!s.gpgRequireSig) {
    if (s.gpgDisableSig) {
      info(
        `Warning: GPG_REQUIRE_SIG should really be enabled for stanza source: '${d.sourceText}' (#${index})`,
      );
    } else {
      s.gpgRequireSig = true;
    }
  } else if (s.gpgDisableSig) {
    info(`Warning: GPG_REQUIRE_SIG and GPG_DISABLE_SIG are both set, will check sigs ${tag}`);
  }
  if (
    !s.gpgDisableSig &&
    d.lists.gpgRemoteIds === undefined &&
    d.lists.gpgFingerprintIds === undefined
  ) {
    failAt(
      "FWK_ERR_CONFIG_STANZA",
      `${d.file}:${d.line}`,
      `Must have either sig ID's or fingerprints to check via GPG_REMOTE_ID or GPG_FINGERPRINT_ID ${tag}`,
    );
  }
}
