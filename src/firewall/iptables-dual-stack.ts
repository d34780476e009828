/**
 * FIREWALL_TYPE iptables for both address families: IPv4 rules go to `iptables`, IPv6 rules (an
 * IPv6 client address, from a knock that arrived over IPv6) to `ip6tables` with the same chains,
 * targets and `_exp_` comments. The ledger stays family-blind: each rule's addresses say where
 * it belongs.
 *
 * The IPv6 side is set up at init like the IPv4 side, but a host without working ip6tables
 * (no binary, IPv6 disabled in the kernel) only gets a warning: IPv4 service must not depend on
 * it. Its IPv6 grants then fail (and the ledger retries them), each batch trying the IPv6 init
 * again first.
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { BackendOptions, FirewallBackend } from "./backend.js";
import { IptablesBackend } from "./iptables.js";
import type { ChainKind, Rule } from "./rule.js";
import { isIpv6Text } from "./rules.js";
import type { FirewallSettings } from "./settings.js";

/** A rule is IPv6 when one of its addresses is (NAT targets are IPv4-only, see policy.ts). */
export function isIpv6Rule(r: Rule): boolean {
  return (r.src !== undefined && isIpv6Text(r.src)) || (r.dst !== undefined && isIpv6Text(r.dst));
}

export class DualStackIptablesBackend implements FirewallBackend {
  readonly name = "iptables";
  readonly #v4: IptablesBackend;
  /** Undefined when FIREWALL_EXE_IPV6 is `none` (or has no default). */
  readonly #v6: IptablesBackend | undefined;
  readonly #log: Logger;
  #v6Ready = false;
  #flushAtInit = false;

  constructor(settings: FirewallSettings, opts: BackendOptions) {
    this.#v4 = new IptablesBackend(settings, opts);
    // NAT is IPv4-only (policy.ts), so ip6tables gets the access chains only: no ip6tables
    // nat table is needed, and nothing unused is created there.
    const { input, output } = settings.chains;
    const chains = { ...(input ? { input } : {}), ...(output ? { output } : {}) };
    this.#v6 = settings.exe6
      ? new IptablesBackend({ ...settings, chains }, opts, "inet6")
      : undefined;
    this.#log = opts.log;
  }

  chainName(kind: ChainKind): string {
    return this.#v4.chainName(kind);
  }

  async init(opts: { flush: boolean }): Promise<void> {
    this.#flushAtInit = opts.flush;
    // Both families at once, as apply() does: each init is a dozen iptables runs, and doing them
    // one family after the other made them most of the daemon's start-up (docs/benchmarks.md).
    // An IPv6 failure is only a warning (#initV6); an IPv4 failure stops the start.
    const [v4] = await Promise.allSettled([this.#v4.init(opts), this.#initV6(true)]);
    if (v4.status === "rejected") throw v4.reason;
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    const add6 = add.filter(isIpv6Rule);
    const remove6 = remove.filter(isIpv6Rule);
    const add4 = add.filter((r) => !isIpv6Rule(r));
    const remove4 = remove.filter((r) => !isIpv6Rule(r));
    // Both families are applied even when one fails, so an IPv6 problem never holds up IPv4.
    const results = await Promise.allSettled([
      this.#v4.apply(add4, remove4),
      add6.length > 0 || remove6.length > 0 ? this.#applyV6(add6, remove6) : undefined,
    ]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  async listInstalled(): Promise<Rule[]> {
    const rules = await this.#v4.listInstalled();
    if (this.#v6Ready && this.#v6) rules.push(...(await this.#v6.listInstalled()));
    return rules;
  }

  async flush(): Promise<void> {
    await this.#v4.flush();
    // --fw-flush runs without init: try the IPv6 side anyway, its failures are harmless.
    await this.#v6?.flush().catch((e: unknown) => this.#log.debug(`ip6tables flush: ${e}`));
  }

  async listText(all: boolean): Promise<string> {
    const v4 = await this.#v4.listText(all);
    if (!this.#v6) return v4;
    const v6 = await this.#v6.listText(all).catch((e: unknown) => `${(e as Error).message}\n`);
    return `${v4}\n${v6}`;
  }

  async #applyV6(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (!this.#v6) {
      throw new FwknopError(
        "FWK_ERR_FW_APPLY",
        "IPv6 access needs ip6tables, but FIREWALL_EXE_IPV6 is none (or has no default for this FIREWALL_EXE)",
      );
    }
    if (!(await this.#initV6(false))) {
      throw new FwknopError(
        "FWK_ERR_FW_APPLY",
        "ip6tables is not usable; see the warning at start",
      );
    }
    await this.#v6.apply(add, remove);
  }

  /** True once the IPv6 chains are in place; failures are logged (as a warning at start). */
  async #initV6(atStart: boolean): Promise<boolean> {
    if (this.#v6Ready || !this.#v6) return this.#v6Ready;
    try {
      await this.#v6.init({ flush: this.#flushAtInit && atStart });
      this.#v6Ready = true;
    } catch (e) {
      const line = `IPv6 firewall (ip6tables) not usable, IPv6 knocks cannot be granted: ${(e as Error).message}`;
      if (atStart) this.#log.warn(line);
      else this.#log.debug(line);
    }
    return this.#v6Ready;
  }
}
