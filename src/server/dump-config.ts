/** -D/--dump-config: every fwknopd.conf variable in upstream order, then each access stanza. */
import type { AccessStanza } from "../config/access-stanza.js";
import type { ServerConfig } from "../config/server-config.js";
import { serverVariable } from "../config/server-variables.js";

const NOT_SET = "<not set>";

export function dumpConfig(config: ServerConfig, stanzas: readonly AccessStanza[]): string {
  const out = ["Current fwknopd config settings:"];
  // Upstream's variables in upstream order (scripts parse the list), then our own ones if set.
  const entries = config.entries();
  const upstream = (name: string) => serverVariable(name)?.upstream === true;
  const ordered = [
    ...entries.filter(([name]) => upstream(name)),
    ...entries.filter(([name, value]) => !upstream(name) && value !== undefined),
  ];
  ordered.forEach(([name, value], i) => {
    out.push(`${String(i).padStart(3)}. ${name.padEnd(28)} =  '${value ?? NOT_SET}'`);
  });
  out.push("", "Current fwknopd access settings:");
  for (const s of stanzas) out.push(...dumpStanza(s), "");
  return `${out.join("\n")}\n`;
}

function dumpStanza(s: AccessStanza): string[] {
  const yn = (b: boolean) => (b ? "Yes" : "No");
  const opt = (v: string | number | undefined) => (v === undefined ? NOT_SET : String(v));
  const ports = (p: AccessStanza["openPorts"]) =>
    p ? p.map((x) => `${x.proto}/${x.port}`).join(", ") : NOT_SET;
  const rows: [string, string][] = [
    ["DESTINATION", s.destination ? s.destination.entries.map((e) => e.text).join(", ") : NOT_SET],
    ["OPEN_PORTS", ports(s.openPorts)],
    ["RESTRICT_PORTS", ports(s.restrictPorts)],
    // Keys are never printed, as upstream.
    ["KEY", s.key ? "<see the access.conf file>" : NOT_SET],
    ["KEY_LEN", String(s.key?.length ?? 0)],
    ["HMAC_KEY", s.hmacKey ? "<see the access.conf file>" : NOT_SET],
    ["HMAC_KEY_LEN", String(s.hmacKey?.length ?? 0)],
    ["HMAC_DIGEST_TYPE", s.hmacType],
    ["ENCRYPTION_MODE", s.encMode],
    ["FW_ACCESS_TIMEOUT", String(s.fwAccessTimeout)],
    ["MAX_FW_TIMEOUT", String(s.maxFwTimeout)],
    ["ENABLE_CMD_EXEC", yn(s.enableCmdExec)],
    ["ENABLE_CMD_SUDO_EXEC", yn(s.enableCmdSudoExec)],
    ["CMD_SUDO_EXEC_USER", opt(s.cmdSudoExecUser)],
    ["CMD_SUDO_EXEC_GROUP", opt(s.cmdSudoExecGroup)],
    ["CMD_EXEC_USER", opt(s.cmdExecUser)],
    ["CMD_EXEC_GROUP", opt(s.cmdExecGroup)],
    ["CMD_CYCLE_OPEN", opt(s.cmdCycleOpen)],
    ["CMD_CYCLE_CLOSE", opt(s.cmdCycleClose)],
    ["CMD_CYCLE_TIMER", String(s.cmdCycleTimer ?? 0)],
    ["REQUIRE_USERNAME", opt(s.requireUsername)],
    ["REQUIRE_SOURCE_ADDRESS", yn(s.requireSourceAddress)],
    ["ACCESS_EXPIRE_EPOCH", opt(s.accessExpire)],
    ["FORCE_NAT (ip)", opt(s.forceNat?.ip)],
    ["FORCE_NAT (port)", String(s.forceNat?.port ?? 0)],
    ["FORCE_SNAT (ip)", opt(s.forceSnat)],
    ["FORCE_MASQUERADE", yn(s.forceMasquerade)],
    ["DISABLE_DNAT", yn(s.disableDnat)],
    ["FORWARD_ALL", yn(s.forwardAll)],
    ["GPG_HOME_DIR", opt(s.gpgHomeDir)],
    ["GPG_DECRYPT_ID", opt(s.gpgDecryptId)],
    ["GPG_DECRYPT_PW", s.gpgDecryptPw ? "<see the access.conf file>" : NOT_SET],
    ["GPG_REQUIRE_SIG", yn(s.gpgRequireSig)],
    ["GPG_REMOTE_ID", s.gpgRemoteIds ? s.gpgRemoteIds.join(", ") : NOT_SET],
    ["GPG_FINGERPRINT_ID", s.gpgFingerprintIds ? s.gpgFingerprintIds.join(", ") : NOT_SET],
  ];
  return [
    `SOURCE (${s.index}):  ${s.source.entries.map((e) => e.text).join(", ")}`,
    "==============================================================",
    ...rows.map(([k, v]) => `${k.padStart(27)}:  ${v}`),
  ];
}
