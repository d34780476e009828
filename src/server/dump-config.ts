/**
 * -D/--dump-config: every fwknopd.conf variable in upstream order, then each access stanza,
 * line for line as fwknopd 2.6.10 prints them (scripts and operators diff the two); what only
 * we have comes after upstream's lines in each block. test/process/dump-config-c-parity.test.ts
 * diffs both daemons' output for several configurations.
 */
import type { AccessStanza } from "../config/access-stanza.js";
import type { ServerConfig } from "../config/server-config.js";
import { serverVariable } from "../config/server-variables.js";
import { DIGEST_IDS } from "../protocol/constants.js";

const NOT_SET = "<not set>";
const SECRET = "<see the access.conf file>";

/**
 * `asGiven`: path options as typed on the command line (2.6.10 prints those, not the absolute
 * paths we use).
 */
export function dumpConfig(
  config: ServerConfig,
  stanzas: readonly AccessStanza[],
  asGiven: Readonly<Record<string, string>> = {},
): string {
  const out = ["Current fwknopd config settings:"];
  // Upstream's variables in upstream order (scripts parse the list), then our own ones if set.
  const entries = config.entries();
  const upstream = (name: string) => serverVariable(name)?.upstream === true;
  const ordered = [
    ...entries.filter(([name]) => upstream(name)),
    ...entries.filter(([name, value]) => !upstream(name) && value !== undefined),
  ];
  ordered.forEach(([name, value], i) => {
    let shown = asGiven[name] ?? value;
    // 2.6.10 also stores `-c FILE` as OVERRIDE_CONFIG (docs/configuration.md); -D shows that.
    if (name === "OVERRIDE_CONFIG" && shown === undefined) shown = asGiven.CONFIG_FILE;
    out.push(`${String(i).padStart(3)}. ${name.padEnd(28)} =  '${shown ?? NOT_SET}'`);
  });
  out.push("", "Current fwknopd access settings:");
  for (const s of stanzas) out.push(...dumpStanza(s), "");
  // 2.6.10 ends the dump with one more empty line.
  out.push("");
  return `${out.join("\n")}\n`;
}

function dumpStanza(s: AccessStanza): string[] {
  const yn = (b: boolean) => (b ? "Yes" : "No");
  const opt = (v: string | number | undefined) => (v === undefined ? NOT_SET : String(v));
  // Lists are printed as written, like 2.6.10 (which keeps the text).
  const written = (name: string) => s.written?.[name];
  const keyFrom = (plain: string, b64: string, has: boolean) => [
    [plain, has ? SECRET : NOT_SET],
    [b64, has && written(b64) !== undefined ? SECRET : NOT_SET],
  ];
  const rows: [string, string][] = [
    ["DESTINATION", opt(written("DESTINATION"))],
    ["OPEN_PORTS", opt(written("OPEN_PORTS"))],
    ["RESTRICT_PORTS", opt(written("RESTRICT_PORTS"))],
    ...(keyFrom("KEY", "KEY_BASE64", s.key !== undefined) as [string, string][]),
    ["KEY_LEN", String(s.key?.length ?? 0)],
    ...(keyFrom("HMAC_KEY", "HMAC_KEY_BASE64", s.hmacKey !== undefined) as [string, string][]),
    ["HMAC_KEY_LEN", String(s.hmacKey?.length ?? 0)],
    // The numeric digest id, 0 without an HMAC key.
    ["HMAC_DIGEST_TYPE", String(s.hmacKey ? DIGEST_IDS[s.hmacType] : 0)],
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
    ["FORCE_NAT (ip)", opt(s.forceNat?.ip)],
    // 2.6.10 has a field for it that its FORCE_NAT parser never fills.
    ["FORCE_NAT (proto)", NOT_SET],
    ["FORCE_NAT (port)", String(s.forceNat?.port ?? 0)],
    ["FORCE_SNAT (ip)", opt(s.forceSnat)],
    ["FORCE_MASQUERADE", yn(s.forceMasquerade)],
    ["DISABLE_DNAT", yn(s.disableDnat)],
    ["FORWARD_ALL", yn(s.forwardAll)],
    ["ACCESS_EXPIRE", s.accessExpire === undefined ? NOT_SET : ctime(s.accessExpire)],
    ["GPG_HOME_DIR", opt(s.gpgHomeDir)],
    ["GPG_EXE", opt(s.gpgExe)],
    ["GPG_DECRYPT_ID", opt(s.gpgDecryptId)],
    ["GPG_DECRYPT_PW", s.gpgDecryptPw ? SECRET : NOT_SET],
    ["GPG_REQUIRE_SIG", yn(s.gpgRequireSig)],
    ["GPG_IGNORE_SIG_VERIFY_ERROR", yn(s.gpgIgnoreSigVerifyError)],
    ["GPG_REMOTE_ID", opt(written("GPG_REMOTE_ID"))],
    ["GPG_FINGERPRINT_ID", opt(written("GPG_FINGERPRINT_ID"))],
    // Ours, after upstream's lines.
    ["ENCRYPTION_MODE", s.encMode],
    ["GPG_ALLOW_NO_PW", yn(s.gpgAllowNoPw)],
    ["GPG_DISABLE_SIG", yn(s.gpgDisableSig)],
  ];
  return [
    `SOURCE (${s.index}):  ${written("SOURCE") ?? s.source.entries.map((e) => e.text).join(", ")}`,
    "==============================================================",
    ...rows.map(([k, v]) => `${k.padStart(27)}:  ${v}`),
  ];
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** C `ctime()` in local time without its newline: `Sun Mar 17 17:46:40 2030`. */
function ctime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
  );
}
