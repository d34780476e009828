/**
 * The firewall seam (interface only). A backend only translates ledger operations (add/remove a
 * batch of rules, list what is installed, flush) into its tool's language; it never decides
 * policy. Backends are registered and chosen by FIREWALL_TYPE in select.ts.
 */
import type { Logger } from "../log/logger.js";
import type { ChainKind, Rule } from "./rule.js";
import type { FirewallSettings } from "./settings.js";

export type { ChainKind, Proto, Rule, RuleNote } from "./rule.js";

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
