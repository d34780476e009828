/**
 * Pure pieces of the firewalld backend: its settings, the `firewall-cmd` argv of both modes, and
 * rich-rule text read back into rules. No process is started here.
 *
 * - passthrough (fwknopd 2.6.10's firewalld build, spec §11.2): the iptables templates of §11.1
 *   behind `firewall-cmd --direct --passthrough ipv4`, in upstream's argument order
 *   (`-A <chain> -t <table> -p 6 …`, `-C <from> -t <table> -j <to>`).
 * - rich (ours, the default): an access grant is a runtime rich rule added with `--timeout`, so
 *   firewalld itself closes it even if fwknopd is gone. Rich rules have no comment field; the
 *   `_exp_<ts>` marker rides in the prefix of a rate-limited log action (at most one kernel log
 *   line per hour per grant), which is how adoption reads the expiry back.
 */
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";
import type { Proto, Rule } from "./backend.js";
import {
  EXPIRE_COMMENT_PREFIX,
  expireComment,
  hostAddress,
  isIpv6Text,
  ruleArgs,
} from "./rules.js";
import type { ChainSpec, FirewallSettings } from "./settings.js";

export type FirewalldMode = "rich" | "passthrough";

export interface FirewalldSettings {
  /** FIREWD_MODE: `rich` (default) or `passthrough` (2.6.10's direct rules). */
  mode: FirewalldMode;
  /** FIREWD_ZONE: the zone rich rules go to; absent = firewalld's default zone. */
  zone?: string;
}

/** What the firewalld backend is built from: the shared settings plus its own. */
export interface FirewalldBackendSettings extends FirewallSettings {
  firewalld?: FirewalldSettings;
}

export const DEFAULT_FIREWALLD_SETTINGS: Readonly<FirewalldSettings> = { mode: "rich" };

/** firewalld zone names: letters, digits, `_`, `-`, `/`; at most 17 characters. */
const ZONE_NAME = /^[A-Za-z0-9_/-]{1,17}$/;

export function firewalldSettingsFromConfig(cfg: ServerConfig): FirewalldSettings {
  const mode = (cfg.get("FIREWD_MODE") ?? "rich").toLowerCase();
  if (mode !== "rich" && mode !== "passthrough") {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${cfg.where("FIREWD_MODE") ?? "default"}: Invalid FIREWD_MODE '${mode}' (rich or passthrough)`,
    );
  }
  const settings: FirewalldSettings = { mode };
  const zone = cfg.get("FIREWD_ZONE");
  if (zone !== undefined && zone !== "") {
    if (!ZONE_NAME.test(zone)) {
      throw new FwknopError(
        "FWK_ERR_CONFIG_VALUE",
        `${cfg.where("FIREWD_ZONE")}: Invalid FIREWD_ZONE name '${zone}'`,
      );
    }
    settings.zone = zone;
  }
  return settings;
}

export type DirectFamily = "ipv4" | "ipv6";

/** The family argument of `--passthrough` for a rule: its addresses say which. */
export function directFamily(r: Rule): DirectFamily {
  return (r.src !== undefined && isIpv6Text(r.src)) || (r.dst !== undefined && isIpv6Text(r.dst))
    ? "ipv6"
    : "ipv4";
}

/** `firewall-cmd --direct --passthrough <family> <args>`: every 2.6.10 firewalld command. */
export function passthrough(exe: string, family: DirectFamily, args: readonly string[]): string[] {
  return [exe, "--direct", "--passthrough", family, ...args];
}

/** The §11.2 argument lists after `--passthrough <family>`, in upstream's order. */
export const directArgs = {
  createChain: (c: ChainSpec) => ["-t", c.table, "-N", c.toChain],
  checkJump: (c: ChainSpec) => ["-C", c.fromChain, "-t", c.table, "-j", c.toChain],
  listJumps: (c: ChainSpec) => ["-t", c.table, "-L", c.fromChain, "--line-numbers", "-n"],
  addJump: (c: ChainSpec) => [
    "-t",
    c.table,
    "-I",
    c.fromChain,
    String(c.jumpPosition),
    "-j",
    c.toChain,
  ],
  listChain: (c: ChainSpec) => ["-t", c.table, "-L", c.toChain, "--line-numbers", "-n"],
  listAll: (c: ChainSpec) => ["-t", c.table, "-v", "-n", "-L", "--line-numbers"],
  /** Rules in `-S` form, parsed back by parseRuleLine (rule-line.ts). */
  specChain: (c: ChainSpec) => ["-t", c.table, "-S", c.toChain],
  /** `-A <chain> -t <table> <§11.1.2 args>`, or `-I <chain> 1 …` with ENABLE_RULE_PREPEND. */
  addRule: (r: Rule, c: ChainSpec, prepend: boolean) => [
    ...(prepend ? ["-I", c.toChain, "1"] : ["-A", c.toChain]),
    "-t",
    c.table,
    ...ruleArgs(r, c),
  ],
  /** Upstream deletes by rule number from a listing; we delete by rule text (no renumber race). */
  deleteRule: (r: Rule, c: ChainSpec) => ["-D", c.toChain, "-t", c.table, ...ruleArgs(r, c)],
} as const;

/** Prefix of our rich rules' log action; the expiry marker follows. */
const RICH_TAG = "fwknop ";

/** The runtime rich rule of an INPUT access grant. */
export function richRule(r: Rule): string {
  if (r.chain !== "input" || r.proto === undefined || r.dport === undefined || !r.src) {
    throw new FwknopError(
      "FWK_ERR_FW_CHAIN_INACTIVE",
      `a firewalld rich rule carries access rules only (proto, source, port), not a ${r.chain} rule`,
    );
  }
  const family = isIpv6Text(r.src) ? "ipv6" : "ipv4";
  const any = r.dst === undefined || r.dst === "0.0.0.0/0" || r.dst === "::/0";
  return [
    `rule family="${family}"`,
    `source address="${r.src}"`,
    ...(any ? [] : [`destination address="${r.dst}"`]),
    `port port="${r.dport}" protocol="${r.proto}"`,
    `log prefix="${RICH_TAG}${expireComment(r.expiresAt)} " level="info" limit value="1/h"`,
    "accept",
  ].join(" ");
}

/** `--add-rich-rule` arguments for rules that expire at the same second, `timeout` seconds away. */
export function richAddArgv(
  exe: string,
  zone: string | undefined,
  rules: readonly Rule[],
  timeout: number,
): string[] {
  return [
    exe,
    ...(zone ? [`--zone=${zone}`] : []),
    ...rules.map((r) => `--add-rich-rule=${richRule(r)}`),
    `--timeout=${timeout}s`,
  ];
}

export function richRemoveArgv(
  exe: string,
  zone: string | undefined,
  rules: readonly Rule[],
): string[] {
  return [
    exe,
    ...(zone ? [`--zone=${zone}`] : []),
    ...rules.map((r) => `--remove-rich-rule=${richRule(r)}`),
  ];
}

const PROTOS: Record<string, Proto> = { tcp: "tcp", udp: "udp" };

/** One `--list-rich-rules` line back into a rule; rules without our tagged marker are not ours. */
export function parseRichRule(line: string): Rule | undefined {
  const text = line.trim();
  const marker = new RegExp(`log prefix="${RICH_TAG}${EXPIRE_COMMENT_PREFIX}(\\d+) ?"`).exec(text);
  const src = /source address="([^"]+)"/.exec(text);
  const port = /port port="(\d+)" protocol="(\w+)"/.exec(text);
  const proto = PROTOS[port?.[2] ?? ""];
  if (!marker || !src || !port || !proto || !/ accept$/.test(text)) return undefined;
  const rule: Rule = {
    chain: "input",
    proto,
    src: hostAddress(src[1] as string),
    dport: Number(port[1]),
    expiresAt: Number(marker[1]),
  };
  const dst = /destination address="([^"]+)"/.exec(text);
  if (dst) rule.dst = hostAddress(dst[1] as string);
  return rule;
}
