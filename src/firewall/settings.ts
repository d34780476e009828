/**
 * Firewall settings: the slice of fwknopd.conf (spec §9.2, the IPT_* family) that the firewall
 * backends and the rule builder need, as one plain typed object. Building it from a parsed
 * ServerConfig is settingsFromConfig(); tests build it by hand from defaultFirewallSettings().
 * A backend's own variables (NFT_TABLE, ...) are added by select.ts:backendSettingsFromConfig().
 */
import { isIPv4 } from "node:net";
import { type ChainSpec, parseChainSpec } from "../config/chain-spec.js";
import type { ServerConfig } from "../config/server-config.js";
import { familyVariables } from "../config/server-variables.js";
import { FwknopError } from "../errors.js";
import type { ChainKind } from "./rule.js";

export type { ChainSpec };

export interface FirewallSettings {
  /** FIREWALL_EXE: the iptables binary; iptables-restore is looked up next to it. */
  exe: string;
  /** Our FIREWALL_EXE_IPV6: ip6tables for IPv6 grants; absent = IPv6 grants are refused. */
  exe6?: string;
  /** The active chains only (spec §11.1 table "Active when"). */
  chains: Partial<Record<ChainKind, ChainSpec>>;
  /** ENABLE_RULE_PREPEND: insert new rules at the top of the chain instead of appending. */
  prepend: boolean;
  /** ENABLE_DESTINATION_RULE: restrict INPUT/DNAT rules to the packet's destination address. */
  destinationRule: boolean;
  /** ENABLE_IPT_SNAT. */
  snat: boolean;
  /** SNAT_TRANSLATE_IP, only when it is a valid IPv4 address. */
  snatTranslateIp?: string;
  /** ENABLE_IPT_COMMENT_CHECK: probe the `comment` match at init. */
  commentCheck: boolean;
  /** False with `--no-ipt-check-support`: find jump rules by listing instead of `iptables -C`. */
  checkSupport: boolean;
  /**
   * Our own ENABLE_IPT_IPSET: INPUT access grants become entries (with kernel timeouts) of an
   * ipset matched by one static rule in the INPUT chain, instead of one rule per grant.
   */
  ipset: boolean;
}

export const DEFAULT_CHAIN_SPECS = {
  input: spec("ACCEPT", "filter", "INPUT", "FWKNOP_INPUT"),
  output: spec("ACCEPT", "filter", "OUTPUT", "FWKNOP_OUTPUT"),
  forward: spec("ACCEPT", "filter", "FORWARD", "FWKNOP_FORWARD"),
  dnat: spec("DNAT", "nat", "PREROUTING", "FWKNOP_PREROUTING"),
  snat: spec("SNAT", "nat", "POSTROUTING", "FWKNOP_POSTROUTING"),
  masquerade: spec("MASQUERADE", "nat", "POSTROUTING", "FWKNOP_MASQUERADE"),
} as const satisfies Record<ChainKind, ChainSpec>;

function spec(target: string, table: string, fromChain: string, toChain: string): ChainSpec {
  return { target, table, fromChain, jumpPosition: 1, toChain, rulePosition: 1 };
}

/** Which chain kinds are active for the given switches (spec §11.1). */
export function activeChainKinds(flags: {
  output: boolean;
  forwarding: boolean;
  localNat: boolean;
  snat: boolean;
}): ChainKind[] {
  const kinds: ChainKind[] = ["input"];
  if (flags.output) kinds.push("output");
  if (flags.forwarding || flags.localNat) {
    kinds.push("forward", "dnat");
    if (flags.snat) kinds.push("snat", "masquerade");
  }
  return kinds;
}

/** Upstream defaults: only FWKNOP_INPUT is active. */
export function defaultFirewallSettings(): FirewallSettings {
  return {
    exe: "/usr/sbin/iptables",
    exe6: "/usr/sbin/ip6tables",
    chains: { input: { ...DEFAULT_CHAIN_SPECS.input } },
    prepend: false,
    destinationRule: false,
    snat: false,
    commentCheck: true,
    checkSupport: true,
    ipset: false,
  };
}

/**
 * Firewall settings from the parsed fwknopd.conf. The variable family follows FIREWALL_TYPE
 * (IPT_* for iptables); chain specs were validated when the configuration was loaded.
 */
export function settingsFromConfig(cfg: ServerConfig): FirewallSettings {
  const f = familyVariables(cfg.firewallType);
  if (!f) return accessOnlySettings(cfg);
  const kinds = activeChainKinds({
    output: cfg.bool(f.output),
    forwarding: cfg.bool(f.forwarding),
    localNat: cfg.bool(f.localNat),
    snat: cfg.bool(f.snat),
  });
  const chains: Partial<Record<ChainKind, ChainSpec>> = {};
  for (const kind of kinds) {
    const name = f.chains[kind];
    const parsed = parseChainSpec(cfg.get(name));
    if (!parsed.ok) {
      throw new FwknopError(
        "FWK_ERR_CONFIG_CHAIN_SPEC",
        `Invalid ${name} specification: ${parsed.detail}`,
      );
    }
    chains[kind] = parsed.value;
  }
  const snatIp = cfg.get("SNAT_TRANSLATE_IP");
  const settings: FirewallSettings = {
    exe: cfg.get("FIREWALL_EXE"),
    chains,
    prepend: cfg.bool("ENABLE_RULE_PREPEND"),
    destinationRule: cfg.bool("ENABLE_DESTINATION_RULE"),
    snat: cfg.bool(f.snat),
    commentCheck: cfg.bool(f.commentCheck),
    checkSupport: true,
    // Our ENABLE_IPT_IPSET exists only in the iptables family.
    ipset: cfg.firewallType === "iptables" && cfg.bool("ENABLE_IPT_IPSET"),
  };
  const exe6 = cfg.get("FIREWALL_EXE_IPV6");
  if (exe6 !== undefined && exe6 !== "" && exe6.toLowerCase() !== "none") settings.exe6 = exe6;
  if (snatIp !== undefined && isIPv4(snatIp)) settings.snatTranslateIp = snatIp;
  return settings;
}

/**
 * A firewall without chain families (pf, ipfw: their 2.6.10 builds grant plain access only):
 * the INPUT kind is the one rule kind, ENABLE_DESTINATION_RULE the only switch.
 */
function accessOnlySettings(cfg: ServerConfig): FirewallSettings {
  return {
    exe: cfg.get("FIREWALL_EXE"),
    chains: { input: { ...DEFAULT_CHAIN_SPECS.input } },
    prepend: false,
    destinationRule: cfg.bool("ENABLE_DESTINATION_RULE"),
    snat: false,
    commentCheck: false,
    checkSupport: true,
    ipset: false,
  };
}
