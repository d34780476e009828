/**
 * The firewall seam. A backend only translates ledger operations (add/remove a batch of rules,
 * list what is installed, flush) into its tool's language; it never decides policy.
 * Backends are chosen by FIREWALL_TYPE through the registry at the bottom.
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { DualStackIptablesBackend } from "./dual-stack.js";
import { FirewalldBackend } from "./firewalld.js";
import { IpfwBackend } from "./ipfw.js";
import { NftablesBackend } from "./nftables.js";
import { PfBackend } from "./pf.js";
import type { FirewallSettings } from "./settings.js";

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

export interface FirewallBackend {
  readonly name: string;
  /** Chains, jump rules and probes (as upstream); flushes everything of ours first if asked. */
  init(opts: { flush: boolean }): Promise<void>;
  /** One batch. Throws FwknopError (FWK_ERR_FW_APPLY) naming the tool and its exit status. */
  apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void>;
  /** Our rules currently in the kernel, expiresAt parsed from `_exp_<ts>`. */
  listInstalled(): Promise<Rule[]>;
  /** Remove jump rules and delete our chains (spec §11.1.6). */
  flush(): Promise<void>;
  /** The text `--fw-list` (all = false) or `--fw-list-all` prints, with upstream headings. */
  listText(all: boolean): Promise<string>;
  /** The chain name a rule kind lands in (for log lines), e.g. FWKNOP_INPUT. */
  chainName(kind: ChainKind): string;
}

export interface BackendOptions {
  log: Logger;
  /** Run every command inside this network namespace (tests); production: none. */
  netns?: string;
  /** `--no-ipt-check-support`: never use `iptables -C`. */
  noCheckSupport?: boolean;
}

export type BackendFactory = (settings: FirewallSettings, opts: BackendOptions) => FirewallBackend;

const registry = new Map<string, BackendFactory>([
  ["iptables", (settings, opts) => new DualStackIptablesBackend(settings, opts)],
  ["nftables", (settings, opts) => new NftablesBackend(settings, opts)],
  ["firewalld", (settings, opts) => new FirewalldBackend(settings, opts)],
  ["pf", (settings, opts) => new PfBackend(settings, opts)],
  ["ipfw", (settings, opts) => new IpfwBackend(settings, opts)],
]);

/** Names accepted as FIREWALL_TYPE. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

export function registerBackend(name: string, factory: BackendFactory): void {
  registry.set(name, factory);
}

/** The backend FIREWALL_TYPE names; unknown names are an operator error. */
export function createFirewallBackend(
  type: string,
  settings: FirewallSettings,
  opts: BackendOptions,
): FirewallBackend {
  const factory = registry.get(type.toLowerCase());
  if (!factory) {
    throw new FwknopError(
      "FWK_ERR_FW_UNKNOWN_TYPE",
      `Unknown FIREWALL_TYPE "${type}" (known: ${backendNames().join(", ")})`,
    );
  }
  return factory(settings, opts);
}
