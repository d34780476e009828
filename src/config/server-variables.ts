/**
 * Every fwknopd.conf variable we read, in upstream's internal order (the order `fwknopd -D`
 * prints), with its default and range. Values stay strings, as upstream keeps them; typed access
 * goes through ServerConfig.bool()/int().
 *
 * Upstream binaries are built for one firewall and treat the other families' variables as
 * unknown. We are one binary for all of them: every family is accepted, and range/spec checks run
 * only for the family FIREWALL_TYPE selects.
 */

import type { FirewallType } from "../firewall/backend-names.js";
import type { ChainKind } from "../firewall/rule.js";

/**
 * The firewall families whose chain variables fwknopd.conf may hold, whether or not this build
 * has a backend for them (FIREWALL_TYPE accepts only firewall/backend-names.ts).
 */
export type ChainFamily = "iptables" | "nftables" | "firewalld";

/** The names of one family's chain variables, each written out in full so grep finds it. */
export interface FamilyVariables {
  forwarding: string;
  localNat: string;
  snat: string;
  output: string;
  flushAtInit: string;
  flushAtExit: string;
  /** `*_ACCESS` chain specifications by chain kind. */
  chains: Record<ChainKind, string>;
  commentCheck: string;
}

/**
 * Each family's variables: IPT_* (upstream's iptables build), FIREWD_* (its firewalld build, same
 * set), NFT_* (our nftables backend; there the chain specs only name our chains in NFT_TABLE).
 */
export const FAMILY_VARIABLES = {
  iptables: {
    forwarding: "ENABLE_IPT_FORWARDING",
    localNat: "ENABLE_IPT_LOCAL_NAT",
    snat: "ENABLE_IPT_SNAT",
    output: "ENABLE_IPT_OUTPUT",
    flushAtInit: "FLUSH_IPT_AT_INIT",
    flushAtExit: "FLUSH_IPT_AT_EXIT",
    chains: {
      input: "IPT_INPUT_ACCESS",
      output: "IPT_OUTPUT_ACCESS",
      forward: "IPT_FORWARD_ACCESS",
      dnat: "IPT_DNAT_ACCESS",
      snat: "IPT_SNAT_ACCESS",
      masquerade: "IPT_MASQUERADE_ACCESS",
    },
    commentCheck: "ENABLE_IPT_COMMENT_CHECK",
  },
  firewalld: {
    forwarding: "ENABLE_FIREWD_FORWARDING",
    localNat: "ENABLE_FIREWD_LOCAL_NAT",
    snat: "ENABLE_FIREWD_SNAT",
    output: "ENABLE_FIREWD_OUTPUT",
    flushAtInit: "FLUSH_FIREWD_AT_INIT",
    flushAtExit: "FLUSH_FIREWD_AT_EXIT",
    chains: {
      input: "FIREWD_INPUT_ACCESS",
      output: "FIREWD_OUTPUT_ACCESS",
      forward: "FIREWD_FORWARD_ACCESS",
      dnat: "FIREWD_DNAT_ACCESS",
      snat: "FIREWD_SNAT_ACCESS",
      masquerade: "FIREWD_MASQUERADE_ACCESS",
    },
    commentCheck: "ENABLE_FIREWD_COMMENT_CHECK",
  },
  nftables: {
    forwarding: "ENABLE_NFT_FORWARDING",
    localNat: "ENABLE_NFT_LOCAL_NAT",
    snat: "ENABLE_NFT_SNAT",
    output: "ENABLE_NFT_OUTPUT",
    flushAtInit: "FLUSH_NFT_AT_INIT",
    flushAtExit: "FLUSH_NFT_AT_EXIT",
    chains: {
      input: "NFT_INPUT_ACCESS",
      output: "NFT_OUTPUT_ACCESS",
      forward: "NFT_FORWARD_ACCESS",
      dnat: "NFT_DNAT_ACCESS",
      snat: "NFT_SNAT_ACCESS",
      masquerade: "NFT_MASQUERADE_ACCESS",
    },
    commentCheck: "ENABLE_NFT_COMMENT_CHECK",
  },
} as const satisfies Record<ChainFamily, FamilyVariables>;

/** A chain family's variables, as FAMILY_VARIABLES holds them. */
export type ChainFamilyVariables = (typeof FAMILY_VARIABLES)[ChainFamily];

/**
 * The chain-family variables of a FIREWALL_TYPE; undefined for pf and ipfw, whose 2.6.10 builds
 * grant plain access only (no NAT, OUTPUT or comment switches, no chain specifications).
 */
export function familyVariables(type: FirewallType): ChainFamilyVariables | undefined {
  return type === "pf" || type === "ipfw" ? undefined : FAMILY_VARIABLES[type];
}

/** pf's and ipfw's flush switches (pf's are ours: its 2.6.10 build always flushes). */
const ACCESS_ONLY_FLUSH = {
  pf: { atInit: "FLUSH_PF_AT_INIT", atExit: "FLUSH_PF_AT_EXIT" },
  ipfw: { atInit: "FLUSH_IPFW_AT_INIT", atExit: "FLUSH_IPFW_AT_EXIT" },
} as const;

/** FLUSH_*_AT_INIT / FLUSH_*_AT_EXIT of a FIREWALL_TYPE. */
export function flushVariables(type: FirewallType) {
  if (type === "pf" || type === "ipfw") return ACCESS_ONLY_FLUSH[type];
  const f = FAMILY_VARIABLES[type];
  return { atInit: f.flushAtInit, atExit: f.flushAtExit };
}

type Flat<T> = T extends string ? T : T extends object ? Flat<T[keyof T]> : never;
/** Every chain-family variable name. */
type FamilyVariableName = Flat<typeof FAMILY_VARIABLES>;

/** Build-time default executable of each family (Debian paths). */
export const FIREWALL_DEFAULT_EXE = {
  iptables: "/usr/sbin/iptables",
  firewalld: "/usr/bin/firewall-cmd",
  nftables: "/usr/sbin/nft",
  pf: "/sbin/pfctl",
  ipfw: "/sbin/ipfw",
} as const satisfies Record<ChainFamily | FirewallType, string>;

/**
 * FIREWALL_TYPE when none is set: what upstream's build would pick on this OS (iptables on
 * Linux, ipfw on FreeBSD and DragonFly, pf on OpenBSD, NetBSD and macOS, whose ipfw is gone).
 */
export function platformFirewallType(platform: string = process.platform): FirewallType {
  if (platform === "freebsd" || platform === "dragonfly") return "ipfw";
  if (platform === "openbsd" || platform === "netbsd" || platform === "darwin") return "pf";
  return "iptables";
}

type Lookup = (name: string) => string | undefined;

export interface ServerVariable {
  readonly name: string;
  /** Applied after files and command line when still unset; may derive from other values. */
  readonly def?: string | ((get: Lookup) => string | undefined);
  /** Inclusive integer range checked after defaults (upstream's "not in the range a-b"). */
  readonly range?: readonly [number, number];
  /** Value must be a six-field chain specification. */
  readonly chainSpec?: true;
  /** Only checked (and only meaningful) when this backend is selected. */
  readonly firewall?: ChainFamily | FirewallType | "ipfw" | "pf";
  /**
   * True for the variables the Debian fwknopd 2.6.10 (iptables build) knows, which its `-D` dump
   * prints in this order; false for other builds' families, 2.6.11 additions and our own.
   */
  readonly upstream: boolean;
}

const ETC = "/etc/fwknop";
const RUN_DIR = "/run/fwknop";

function underRunDir(file: string): (get: Lookup) => string {
  return (get) => {
    const dir = get("FWKNOP_RUN_DIR") ?? RUN_DIR;
    return dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`;
  };
}

/** A chain-family variable; every one has a default. */
interface FamilyEntry extends ServerVariable {
  readonly name: FamilyVariableName;
  readonly def: string;
}

/** One family's block, in upstream's order (SNAT_TRANSLATE_IP is listed in the iptables block). */
function chainFamily(
  fw: ChainFamily,
): readonly (FamilyEntry | { readonly name: "SNAT_TRANSLATE_IP"; readonly upstream: true })[] {
  const f = FAMILY_VARIABLES[fw];
  const upstream = fw === "iptables";
  const v = (name: FamilyVariableName, def: string): FamilyEntry => ({
    name,
    def,
    firewall: fw,
    upstream,
  });
  const chain = (kind: ChainKind, def: string): FamilyEntry => ({
    ...v(f.chains[kind], def),
    chainSpec: true,
  });
  return [
    v(f.forwarding, "N"),
    v(f.localNat, "N"),
    v(f.snat, "N"),
    // Shared by every family; listed once, in the iptables block.
    ...(upstream ? [{ name: "SNAT_TRANSLATE_IP", upstream: true } as const] : []),
    v(f.output, "N"),
    v(f.flushAtInit, "Y"),
    v(f.flushAtExit, "Y"),
    chain("input", "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1"),
    chain("output", "ACCEPT, filter, OUTPUT, 1, FWKNOP_OUTPUT, 1"),
    chain("forward", "ACCEPT, filter, FORWARD, 1, FWKNOP_FORWARD, 1"),
    chain("dnat", "DNAT, nat, PREROUTING, 1, FWKNOP_PREROUTING, 1"),
    chain("snat", "SNAT, nat, POSTROUTING, 1, FWKNOP_POSTROUTING, 1"),
    chain("masquerade", "MASQUERADE, nat, POSTROUTING, 1, FWKNOP_MASQUERADE, 1"),
    v(f.commentCheck, "Y"),
  ];
}

/** The table, with each entry's literal type (names and defaults) for the types below. */
const TABLE = [
  { name: "CONFIG_FILE", def: `${ETC}/fwknopd.conf`, upstream: true },
  { name: "OVERRIDE_CONFIG", upstream: true },
  { name: "PCAP_INTF", def: "eth0", upstream: true },
  { name: "PCAP_FILE", upstream: true },
  { name: "ENABLE_PCAP_PROMISC", def: "N", upstream: true },
  { name: "PCAP_FILTER", def: "udp port 62201", upstream: true },
  { name: "PCAP_DISPATCH_COUNT", def: "100", range: [1, 8388608], upstream: true },
  { name: "PCAP_LOOP_SLEEP", def: "100000", range: [1, 8388608], upstream: true },
  // Accepted but never read upstream (only --pcap-any-direction counts); no default either.
  { name: "ENABLE_PCAP_ANY_DIRECTION", upstream: true },
  { name: "EXIT_AT_INTF_DOWN", def: "Y", upstream: true },
  { name: "MAX_SNIFF_BYTES", def: "1500", range: [1, 32768], upstream: true },
  {
    name: "ENABLE_SPA_PACKET_AGING",
    // Replaying a capture file would otherwise reject every packet as too old.
    def: (get) => (get("PCAP_FILE") === undefined ? "Y" : "N"),
    upstream: true,
  },
  { name: "MAX_SPA_PACKET_AGE", def: "120", range: [1, 100000], upstream: true },
  { name: "ENABLE_DIGEST_PERSISTENCE", def: "Y", upstream: true },
  { name: "RULES_CHECK_THRESHOLD", def: "20", range: [0, 131071], upstream: true },
  { name: "CMD_EXEC_TIMEOUT", upstream: true },
  { name: "ENABLE_SPA_OVER_HTTP", def: "N", upstream: true },
  { name: "ALLOW_ANY_USER_AGENT", def: "N", upstream: false },
  { name: "ENABLE_TCP_SERVER", def: "N", upstream: true },
  { name: "TCPSERV_PORT", def: "62201", range: [1, 131071], upstream: true },
  // N in libpcap builds such as Debian's; the daemon decides what "no" means for intake.
  { name: "ENABLE_UDP_SERVER", def: "N", upstream: true },
  { name: "UDPSERV_PORT", def: "62201", range: [1, 131071], upstream: true },
  { name: "UDPSERV_SELECT_TIMEOUT", def: "500000", range: [1, 8388608], upstream: true },
  { name: "LOCALE", upstream: true },
  { name: "SYSLOG_IDENTITY", def: "fwknopd", upstream: true },
  { name: "SYSLOG_FACILITY", def: "LOG_DAEMON", upstream: true },
  { name: "ENABLE_X_FORWARDED_FOR", def: "N", upstream: true },
  { name: "ENABLE_DESTINATION_RULE", def: "N", upstream: true },
  { name: "ENABLE_RULE_PREPEND", def: "N", upstream: true },
  { name: "ENABLE_NAT_DNS", def: "Y", upstream: true },
  ...chainFamily("iptables"),
  // Ours: INPUT grants as ipset entries with kernel timeouts (src/firewall/settings.ts).
  { name: "ENABLE_IPT_IPSET", def: "N", firewall: "iptables", upstream: false },
  ...chainFamily("firewalld"),
  // Ours: how access grants reach firewalld (src/firewall/firewalld.ts): `rich` (runtime rich
  // rules with --timeout, firewalld-native) or `passthrough` (2.6.10's direct iptables rules).
  { name: "FIREWD_MODE", def: "rich", firewall: "firewalld", upstream: false },
  // Ours: the zone rich rules go to; empty = firewalld's default zone.
  { name: "FIREWD_ZONE", firewall: "firewalld", upstream: false },
  // Ours: the nftables backend (src/firewall/nftables.ts, docs/firewall.md).
  ...chainFamily("nftables"),
  { name: "NFT_TABLE", def: "fwknop", firewall: "nftables", upstream: false },
  { name: "NFT_PRIORITY", def: "-10", range: [-1000, 1000], firewall: "nftables", upstream: false },
  { name: "NFT_MARK", def: "0x20000000", firewall: "nftables", upstream: false },
  // Ours: `family, table, chain` of the admin's base chain that gets our mark-accept rule.
  { name: "NFT_ATTACH", firewall: "nftables", upstream: false },
  { name: "FLUSH_IPFW_AT_INIT", def: "Y", firewall: "ipfw", upstream: false },
  { name: "FLUSH_IPFW_AT_EXIT", def: "Y", firewall: "ipfw", upstream: false },
  {
    name: "IPFW_START_RULE_NUM",
    def: "10000",
    range: [0, 131071],
    firewall: "ipfw",
    upstream: false,
  },
  { name: "IPFW_MAX_RULES", def: "65535", range: [1, 131071], firewall: "ipfw", upstream: false },
  { name: "IPFW_ACTIVE_SET_NUM", def: "1", range: [0, 63], firewall: "ipfw", upstream: false },
  { name: "IPFW_EXPIRE_SET_NUM", def: "2", range: [0, 63], firewall: "ipfw", upstream: false },
  {
    name: "IPFW_EXPIRE_PURGE_INTERVAL",
    def: "30",
    range: [1, 131071],
    firewall: "ipfw",
    upstream: false,
  },
  { name: "IPFW_ADD_CHECK_STATE", def: "N", firewall: "ipfw", upstream: false },
  { name: "PF_ANCHOR_NAME", def: "fwknop", firewall: "pf", upstream: false },
  { name: "PF_EXPIRE_INTERVAL", def: "30", range: [1, 131071], firewall: "pf", upstream: false },
  // Ours: upstream's pf build always flushes the anchor at start and exit; N keeps live grants.
  { name: "FLUSH_PF_AT_INIT", def: "Y", firewall: "pf", upstream: false },
  { name: "FLUSH_PF_AT_EXIT", def: "Y", firewall: "pf", upstream: false },
  { name: "FWKNOP_RUN_DIR", def: RUN_DIR, upstream: true },
  { name: "FWKNOP_CONF_DIR", def: ETC, upstream: true },
  { name: "ACCESS_FILE", def: `${ETC}/access.conf`, upstream: true },
  { name: "ACCESS_FOLDER", upstream: true },
  { name: "FWKNOP_PID_FILE", def: underRunDir("fwknopd.pid"), upstream: true },
  { name: "DIGEST_FILE", def: underRunDir("digest.cache"), upstream: true },
  { name: "GPG_HOME_DIR", def: "/root/.gnupg", upstream: true },
  { name: "GPG_EXE", def: "/usr/bin/gpg", upstream: true },
  { name: "SUDO_EXE", def: "/usr/bin/sudo", upstream: true },
  {
    name: "FIREWALL_EXE",
    def: (get) => {
      const type = get("FIREWALL_TYPE")?.toLowerCase() ?? platformFirewallType();
      return type in FIREWALL_DEFAULT_EXE
        ? FIREWALL_DEFAULT_EXE[type as keyof typeof FIREWALL_DEFAULT_EXE]
        : FIREWALL_DEFAULT_EXE.iptables;
    },
    upstream: true,
  },
  // Ours: ip6tables for IPv6 grants (upstream has no IPv6); after FIREWALL_EXE, whose value the
  // default derives from. `none` keeps the firewall IPv4-only.
  {
    name: "FIREWALL_EXE_IPV6",
    def: (get) => ip6tablesSibling(get("FIREWALL_EXE") ?? FIREWALL_DEFAULT_EXE.iptables),
    firewall: "iptables",
    upstream: false,
  },
  // Upstream: "VERBOSE value ... not in the range (>0)" outside 0..INT_MAX.
  { name: "VERBOSE", range: [0, 2147483647], upstream: true },
  { name: "FAULT_INJECTION_TAG", upstream: true },
  // Ours: several gateways, one policy (src/cluster/*, docs/cluster.md). Unset = standalone.
  { name: "REPLAY_CACHE_URL", upstream: false },
  { name: "CLUSTER_GRANTS", def: "N", upstream: false },
  { name: "CLUSTER_NAME", def: "fwknop", upstream: false },
  { name: "CLUSTER_KEY_BASE64", upstream: false },
  { name: "CLUSTER_FAIL_MODE", def: "closed", upstream: false },
  { name: "CLUSTER_TLS_CA_FILE", upstream: false },
  { name: "CLUSTER_TLS_CERT_FILE", upstream: false },
  { name: "CLUSTER_TLS_KEY_FILE", upstream: false },
  { name: "CLUSTER_STREAM_MAXLEN", def: "10000", range: [100, 10000000], upstream: false },
  // Ours: which backend to drive (upstream fixes this at build time); the default follows the OS.
  { name: "FIREWALL_TYPE", def: () => platformFirewallType(), upstream: false },
  // Ours (docs/observability.md): Prometheus endpoint, off unless set; log line format.
  { name: "METRICS_LISTEN", upstream: false },
  { name: "METRICS_ALLOW_REMOTE", def: "N", upstream: false },
  { name: "LOG_FORMAT", def: "text", upstream: false },
] as const satisfies readonly ServerVariable[];

export const SERVER_VARIABLES: readonly ServerVariable[] = TABLE;

/** Every fwknopd.conf variable name: a typo is a compile error. */
export type ServerVariableName = (typeof TABLE)[number]["name"];

/** The names whose default always yields a value: ServerConfig.get() never answers undefined. */
export type DefaultedVariableName = Extract<
  (typeof TABLE)[number],
  { readonly def: string | ((get: Lookup) => string) }
>["name"];

/**
 * The IPv6 tool next to an iptables binary: /usr/sbin/iptables → /usr/sbin/ip6tables,
 * iptables-legacy → ip6tables-legacy; undefined when the name does not start with `iptables`.
 */
export function ip6tablesSibling(exe: string): string | undefined {
  const m = /^(.*\/)?iptables([^/]*)$/.exec(exe);
  return m ? `${m[1] ?? ""}ip6tables${m[2]}` : undefined;
}

const BY_NAME = new Map(SERVER_VARIABLES.map((v) => [v.name, v]));

/** The table entry of a variable, if it has one. */
export function serverVariable(name: string): ServerVariable | undefined {
  return BY_NAME.get(name);
}

/**
 * Names reserved for our nftables backend (NFT_*, ENABLE_NFT_*, FLUSH_NFT_AT_*) that it does not
 * declare (yet): accepted without the "unknown" warning and kept in the order first seen.
 */
export function isReservedNftName(name: string): boolean {
  return !BY_NAME.has(name) && /^(NFT_|ENABLE_NFT_|FLUSH_NFT_)[A-Z0-9_]+$/.test(name);
}

export function isKnownServerVariable(name: string): boolean {
  return BY_NAME.has(name) || isReservedNftName(name);
}
