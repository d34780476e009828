/**
 * fwknopd.conf loading: main file, then -O override files, then command-line values, then
 * defaults, then upstream's checks. Every value remembers where it came from so a fatal error
 * names the file and line that set it.
 */
import { isUtf8 } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { FwknopError } from "../errors.js";
import { FIREWALL_TYPES, type FirewallType } from "../firewall/backend-names.js";
import { isValidIpv4Addr } from "./address-list.js";
import { checkChainSpecShape, parseChainSpec } from "./chain-spec.js";
import {
  type DefaultedVariableName,
  familyVariables,
  isKnownServerVariable,
  isReservedNftName,
  SERVER_VARIABLES,
  type ServerVariableName,
  serverVariable,
} from "./server-variables.js";
import { parseCInt, tokenizeConfig } from "./tokenizer.js";

export interface ServerConfig {
  /**
   * Effective value: file < -O overrides < command line, defaults for what is still unset; a
   * variable with a default is never undefined.
   */
  get<N extends ServerVariableName>(
    name: N,
  ): N extends DefaultedVariableName ? string : string | undefined;
  /** Upstream's boolean test: the value starts with Y or y. */
  bool(name: ServerVariableName): boolean;
  /** Leading integer of the value (strtol-style); 0 when unset. */
  int(name: ServerVariableName): number;
  /** Every variable in upstream order (reserved NFT_* names last), for the -D dump. */
  entries(): [name: string, value: string | undefined][];
  /** Where the effective value came from: "file:line", "command line" or "default". */
  where(name: ServerVariableName): string | undefined;
  /** The backend FIREWALL_TYPE selects. */
  readonly firewallType: FirewallType;
}

export interface ServerConfigOptions {
  configFile: string;
  /** -O/--override-config files, applied in order after the main file. */
  overrideFiles?: string[] | undefined;
  /** Values from command-line options, keyed by variable name (e.g. PCAP_INTF for -i). */
  cli?: Record<string, string> | undefined;
  warn?: ((msg: string) => void) | undefined;
}

interface Setting {
  value: string;
  where: string;
}

const COMMAND_LINE = "command line";

/**
 * Read a configuration-type file with upstream's checks: missing file fatal, non-regular file
 * fatal, mode other than 0600 or a foreign owner only warned. `kind` is upstream's word for the
 * file ("Config file", "Access file"); `ref` is the "file:line" of the directive naming it.
 */
export interface ConfigText {
  text: string;
  /** How the file's bytes were decoded; values meant as bytes (keys) are re-encoded with it. */
  encoding: "utf8" | "latin1";
}

export function readConfigText(
  path: string,
  kind: string,
  warn: (msg: string) => void,
  ref?: string,
): ConfigText {
  const at = ref === undefined ? "" : `${ref}: `;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new FwknopError(
        "FWK_ERR_CONFIG_FILE_MISSING",
        `${at}${kind}: '${path}' was not found.`,
      );
    }
    throw new FwknopError(
      "FWK_ERR_CONFIG_FILE_MISSING",
      code === "ENAMETOOLONG"
        ? `${at}${kind}: '${path}': Provided path is too long`
        : `${at}${kind}: '${path}' cannot be read (${code ?? String(e)})`,
    );
  }
  if (!st.isFile()) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_FILE_TYPE",
      `${at}${kind}: '${path}' is not a regular file or symbolic link.`,
    );
  }
  if ((Number(st.mode) & 0o777) !== 0o600) {
    warn(`[-] file: ${path} permissions should only be user read/write (0600, -rw-------)`);
  }
  if (process.geteuid && Number(st.uid) !== process.geteuid()) {
    warn(`[-] file: ${path} not owned by current effective user id`);
  }
  try {
    const bytes = readFileSync(path);
    // UTF-8 when the file is valid UTF-8 (paths, names); otherwise byte-per-character, so a raw
    // binary KEY still yields its exact bytes.
    const encoding = isUtf8(bytes) ? "utf8" : "latin1";
    return { text: bytes.toString(encoding), encoding };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FwknopError(
      "FWK_ERR_CONFIG_FILE_MISSING",
      `${at}Could not open ${kind.toLowerCase()}: ${path} (${code ?? String(e)})`,
    );
  }
}

/** Variables that hold a port number (validated strictly, like access.conf port lists). */
const PORT_VARIABLES: ReadonlySet<string> = new Set(["TCPSERV_PORT", "UDPSERV_PORT"]);

function parseConfigFile(
  path: string,
  values: Map<string, Setting>,
  warn: (msg: string) => void,
  ref?: string,
): void {
  const { text } = readConfigText(path, "Config file", warn, ref);
  const invalid: { line: number; raw: string }[] = [];
  const lines = tokenizeConfig(text, path, {
    onInvalid: (line, raw) => invalid.push({ line, raw }),
  });
  // Report lines without a value where they occur, among the other messages.
  const reportInvalidBefore = (line: number): void => {
    while (invalid[0] && invalid[0].line < line) {
      const bad = invalid.shift();
      if (bad) warn(`${path}:${bad.line}: Invalid config file entry (no value): '${bad.raw}'`);
    }
  };
  for (const { name, value, line } of lines) {
    reportInvalidBefore(line);
    const where = `${path}:${line}`;
    if (!isKnownServerVariable(name)) {
      warn(`Ignoring unknown configuration parameter: '${name}' in ${where}`);
      continue;
    }
    if (name === "CONFIG_FILE") {
      warn(`${where}: CONFIG_FILE cannot be changed from a config file; ignored`);
      continue;
    }
    // One expansion, only at the start: "$FWKNOP_RUN_DIR/fwknopd.pid".
    const m = /^\$([A-Z_]+)/.exec(value);
    let effective = value;
    if (m?.[1] !== undefined) {
      const ref = values.get(m[1]);
      if (ref === undefined) {
        warn(`${where}: Invalid embedded variable in: '${value}' (${m[1]} is not set); ignored`);
        continue;
      }
      effective = ref.value + value.slice(m[0].length);
    }
    values.set(name, { value: effective, where });
  }
  reportInvalidBefore(Number.POSITIVE_INFINITY);
}

function fatal(code: "FWK_ERR_CONFIG_RANGE" | "FWK_ERR_CONFIG_VALUE", msg: string): never {
  throw new FwknopError(code, msg);
}

/** Whether the firewall will use the chain a *_ACCESS variable describes (spec §11.1 table). */
function chainInUse(name: string, type: FirewallType, values: Map<string, Setting>): boolean {
  const f = familyVariables(type);
  if (!f) return true;
  const on = (v: string): boolean => /^y/i.test(values.get(v)?.value ?? "");
  const nat = on(f.forwarding) || on(f.localNat);
  switch (name) {
    case f.chains.output:
      return on(f.output);
    case f.chains.forward:
    case f.chains.dnat:
      return nat;
    case f.chains.snat:
    case f.chains.masquerade:
      return nat && on(f.snat);
    default:
      return true;
  }
}

function validate(
  values: Map<string, Setting>,
  type: FirewallType,
  warn: (msg: string) => void,
): void {
  const at = (name: string): string => values.get(name)?.where ?? "default";
  for (const v of SERVER_VARIABLES) {
    const s = values.get(v.name);
    if (s === undefined) continue;
    if (v.firewall !== undefined && v.firewall !== type) continue;
    if (v.range) {
      const [lo, hi] = v.range;
      const n = parseCInt(s.value);
      if (n.value < lo || n.value > hi) {
        fatal(
          "FWK_ERR_CONFIG_RANGE",
          `${s.where}: var ${v.name} value '${s.value}' not in the range ${lo}-${hi}`,
        );
      }
      // A port with text after it is a typo, never a different port (2.6.10 reads 62201x as
      // 62201); other numbers keep upstream's lenient reading, with a warning.
      if (n.trailing && PORT_VARIABLES.has(v.name)) {
        fatal(
          "FWK_ERR_CONFIG_VALUE",
          `${s.where}: var ${v.name} value '${s.value}' is not a port number`,
        );
      }
      if (n.trailing) warn(`${s.where}: ${v.name} value '${s.value}' read as ${n.value}`);
    }
    if (v.chainSpec) {
      // Upstream checks the shape of every chain variable but positions only of chains in use.
      const spec = chainInUse(v.name, type, values)
        ? parseChainSpec(s.value)
        : checkChainSpecShape(s.value);
      if (!spec.ok) {
        throw new FwknopError(
          "FWK_ERR_CONFIG_CHAIN_SPEC",
          `${s.where}: Invalid ${v.name} specification '${s.value}': ${spec.detail}`,
        );
      }
    }
  }
  const facility = values.get("SYSLOG_FACILITY")?.value ?? "";
  if (!/^LOG_(DAEMON|LOCAL[0-7])$/i.test(facility)) {
    fatal(
      "FWK_ERR_CONFIG_VALUE",
      `${at("SYSLOG_FACILITY")}: Invalid SYSLOG_FACILITY setting '${facility}' (LOG_DAEMON or LOG_LOCAL0-7)`,
    );
  }
  const snatIp = values.get("SNAT_TRANSLATE_IP");
  const snatVariable = familyVariables(type)?.snat;
  const snatOn = snatVariable !== undefined && /^y/i.test(values.get(snatVariable)?.value ?? "");
  if (snatOn && snatIp !== undefined && !isValidIpv4Addr(snatIp.value)) {
    fatal(
      "FWK_ERR_CONFIG_VALUE",
      `${snatIp.where}: Invalid IPv4 addr for SNAT_TRANSLATE_IP '${snatIp.value}'`,
    );
  }
  const runDir = values.get("FWKNOP_RUN_DIR")?.value ?? "";
  if (!runDir.startsWith("/")) {
    fatal(
      "FWK_ERR_CONFIG_VALUE",
      `${at("FWKNOP_RUN_DIR")}: FWKNOP_RUN_DIR path '${runDir}' is not absolute.`,
    );
  }
}

export function loadServerConfig(opts: ServerConfigOptions): ServerConfig {
  const warn = opts.warn ?? (() => {});
  const values = new Map<string, Setting>();
  values.set("CONFIG_FILE", { value: opts.configFile, where: COMMAND_LINE });
  if (opts.overrideFiles !== undefined && opts.overrideFiles.length > 0) {
    values.set("OVERRIDE_CONFIG", { value: opts.overrideFiles.join(","), where: COMMAND_LINE });
  }
  parseConfigFile(opts.configFile, values, warn);

  // -O on the command line wins over OVERRIDE_CONFIG in the main file (upstream lets the file win).
  const fromFile = values.get("OVERRIDE_CONFIG");
  const overrides =
    opts.overrideFiles && opts.overrideFiles.length > 0
      ? opts.overrideFiles.map((file) => ({ file, ref: undefined }))
      : (fromFile?.value.split(",") ?? [])
          .filter((f) => f !== "")
          .map((file) => ({ file, ref: fromFile?.where }));
  if (opts.overrideFiles && opts.overrideFiles.length > 0) {
    values.set("OVERRIDE_CONFIG", { value: opts.overrideFiles.join(","), where: COMMAND_LINE });
  }
  for (const { file, ref } of overrides) parseConfigFile(file, values, warn, ref);

  for (const [name, value] of Object.entries(opts.cli ?? {})) {
    if (!isKnownServerVariable(name)) {
      throw new FwknopError(
        "FWK_ERR_CONFIG_UNKNOWN",
        `command line: '${name}' is not a fwknopd.conf variable`,
      );
    }
    values.set(name, { value, where: COMMAND_LINE });
  }

  const lookup = (name: string): string | undefined => values.get(name)?.value;
  // FIREWALL_TYPE first: FIREWALL_EXE's default depends on it.
  const ordered = [
    ...SERVER_VARIABLES.filter((v) => v.name === "FIREWALL_TYPE"),
    ...SERVER_VARIABLES.filter((v) => v.name !== "FIREWALL_TYPE"),
  ];
  for (const v of ordered) {
    if (values.has(v.name) || v.def === undefined) continue;
    const def = typeof v.def === "function" ? v.def(lookup) : v.def;
    if (def !== undefined) values.set(v.name, { value: def, where: "default" });
  }

  const typeSetting = values.get("FIREWALL_TYPE");
  const typeText = typeSetting?.value.toLowerCase() ?? "iptables";
  const firewallType = FIREWALL_TYPES.find((t) => t === typeText);
  if (firewallType === undefined) {
    fatal(
      "FWK_ERR_CONFIG_VALUE",
      `${typeSetting?.where ?? "default"}: FIREWALL_TYPE '${typeSetting?.value}' is not one of ${FIREWALL_TYPES.join(", ")}`,
    );
  }
  validate(values, firewallType, warn);

  const nftNames = [...values.keys()].filter(isReservedNftName);
  return {
    firewallType,
    // Every defaulted variable got its value above, so the narrower type holds.
    get: lookup as ServerConfig["get"],
    bool: (name) => /^y/i.test(lookup(name) ?? ""),
    int: (name) => parseCInt(lookup(name) ?? "0").value,
    where: (name) => values.get(name)?.where,
    entries: () => [
      ...SERVER_VARIABLES.map((v): [string, string | undefined] => [v.name, lookup(v.name)]),
      ...nftNames.map((n): [string, string | undefined] => [n, lookup(n)]),
    ],
  };
}

/** True when the selected backend's NAT switches (…_FORWARDING or …_LOCAL_NAT) are on. */
export function natEnabled(cfg: ServerConfig): boolean {
  const f = familyVariables(cfg.firewallType);
  return f !== undefined && (cfg.bool(f.forwarding) || cfg.bool(f.localNat));
}

export { serverVariable };
