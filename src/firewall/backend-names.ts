/**
 * The one list of firewall backends this build has: the names FIREWALL_TYPE accepts (config
 * validation derives from it) and the keys select.ts must register a factory for — the compiler
 * refuses a name without a backend and a backend without a name. Adding a backend: its name
 * here, one entry in select.ts.
 */
export const FIREWALL_TYPES = ["iptables", "nftables", "firewalld", "pf", "ipfw"] as const;
export type FirewallType = (typeof FIREWALL_TYPES)[number];
