/**
 * The rule model every firewall backend speaks: one access, forward or NAT rule with its expiry.
 * The ledger keys and schedules these; a backend translates them into its tool's language.
 */

export type Proto = "tcp" | "udp";
export type ChainKind = "input" | "output" | "forward" | "dnat" | "snat" | "masquerade";

/** What the log line says about a rule; set by the rule builder, absent on adopted rules. */
export interface RuleNote {
  /** Upstream kind word: access, OUTPUT, local NAT, FORWARD, FORWARD ALL, DNAT, DNAT ALL, SNAT, SNAT ALL. */
  kind: string;
  /** Effective client IP and destination as upstream logs them (`<ip> -> <dst>`). */
  clientIp: string;
  dst: string;
  /** The access spec the client asked for, e.g. `tcp/22,udp/53`. */
  spec: string;
}

export interface Rule {
  chain: ChainKind;
  proto?: Proto;
  src?: string;
  dst?: string;
  dport?: number;
  sport?: number;
  toDestination?: string;
  toSource?: string;
  toPorts?: number;
  /** Unix seconds; the rule is removed once the clock reaches it (upstream: `_exp_<ts>` ≤ now). */
  expiresAt: number;
  note?: RuleNote;
  /**
   * Where listInstalled() found the rule (`set`: an nftables set element). Rules without it (the
   * ledger's own) are removed from wherever the backend would have added them.
   */
  via?: "ipset" | "set" | "chain";
}
