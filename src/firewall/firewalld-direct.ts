/**
 * fwknopd 2.6.10's firewalld rules (spec §11.2): the FWKNOP_* chains, jump rules and `_exp_` rules
 * of the iptables build, each command sent through `firewall-cmd --direct --passthrough`. Used for
 * every rule in FIREWD_MODE passthrough, and for the kinds rich rules cannot carry (OUTPUT,
 * FORWARD, DNAT, SNAT, MASQUERADE) in rich mode. IPv6 rules go to `--passthrough ipv6` chains of
 * the same names (access chains only; NAT is IPv4). firewalld has no batch form for passthrough,
 * so each change is one firewall-cmd call, as upstream.
 *
 * With firewalld's nftables backend these iptables rules sit in iptables' own tables beside
 * firewalld's `inet firewalld`: an ACCEPT here cannot overrule the zone's reject (docs/firewall.md).
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import type { ChainKind, Rule } from "./backend.js";
import { activeChain, commentMatchWorks, deleteChains } from "./chain-steps.js";
import { type DirectFamily, directArgs, directFamily, passthrough } from "./firewalld-commands.js";
import { parseRuleLine } from "./rule-line.js";
import type { ChainSpec } from "./settings.js";
import { type ToolErrorCode, toolError } from "./tool-error.js";

export const DIRECT_LIST_HEADING = "Listing rules in fwknopd firewalld chains...";
export const DIRECT_LIST_ALL_HEADING = "Listing all firewalld rules in applicable tables...";

/** Upstream's probe address for the -C and comment checks, per family. */
const PROBE_SRC = { ipv4: "127.0.0.2", ipv6: "::1" } as const;

export interface DirectOptions {
  exe: string;
  /** The chains this instance manages (rich mode leaves INPUT out). */
  chains: Partial<Record<ChainKind, ChainSpec>>;
  prepend: boolean;
  commentCheck: boolean;
  checkSupport: boolean;
  log: Logger;
  netns: string | undefined;
}

export class DirectChains {
  readonly #o: DirectOptions;
  #checkSupport: boolean;
  #v6Ready = false;

  constructor(o: DirectOptions) {
    this.#o = o;
    this.#checkSupport = o.checkSupport;
  }

  get empty(): boolean {
    return Object.keys(this.#o.chains).length === 0;
  }

  handles(kind: ChainKind): boolean {
    return this.#o.chains[kind] !== undefined;
  }

  async init(flush: boolean): Promise<void> {
    if (this.empty) return;
    const first = this.#specs("ipv4")[0] as ChainSpec;
    if (this.#checkSupport) this.#checkSupport = await this.#probeCheckSupport(first);
    if (flush) await this.flush();
    for (const spec of this.#specs("ipv4")) await this.#ensureChain("ipv4", spec);
    if (this.#o.commentCheck) await this.#checkComment(first);
    try {
      for (const spec of this.#specs("ipv6")) await this.#ensureChain("ipv6", spec);
      this.#v6Ready = true;
    } catch (e) {
      this.#o.log.warn(
        `IPv6 firewalld passthrough chains not usable, IPv6 knocks for them cannot be granted: ${(e as Error).message}`,
      );
    }
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    for (const r of add) {
      const spec = this.#spec(r.chain);
      const family = directFamily(r);
      let res = await this.#cmd(family, directArgs.addRule(r, spec, this.#o.prepend));
      // Upstream re-creates a missing chain and jump rule before every add; we do it on failure.
      if (res.code !== 0) {
        this.#o.log.warn(
          `Chain ${spec.toChain} (${family}) or its jump rule was missing; re-creating it`,
        );
        // A heal that fails itself changes nothing: the add's own failure is what gets reported.
        const healed = await this.#ensureChain(family, spec).then(
          () => true,
          () => false,
        );
        if (healed) res = await this.#cmd(family, directArgs.addRule(r, spec, this.#o.prepend));
      }
      if (res.code !== 0)
        throw this.#error("FWK_ERR_FW_APPLY", res, `adding a rule to ${spec.toChain}`);
    }
    // Removals after the additions: a refreshed grant's new rule (another `_exp_`) is in before
    // the old one goes, so a re-knock never opens a gap.
    for (const r of remove) {
      const res = await this.#cmd(directFamily(r), directArgs.deleteRule(r, this.#spec(r.chain)));
      // Already gone (someone flushed the chain) is what a removal wants.
      if (res.code !== 0 && !/Bad rule|does a matching rule exist|No chain/i.test(res.stderr)) {
        throw this.#error("FWK_ERR_FW_APPLY", res, "removing a rule");
      }
    }
  }

  async listInstalled(): Promise<Rule[]> {
    const rules: Rule[] = [];
    for (const family of ["ipv4", "ipv6"] as const) {
      if (family === "ipv6" && !this.#v6Ready) continue;
      for (const [kind, spec] of this.#entries(family)) {
        const r = await this.#cmd(family, directArgs.specChain(spec));
        if (r.code !== 0) {
          if (/No chain|does not exist|COMMAND_FAILED/i.test(r.stderr)) continue;
          throw this.#error("FWK_ERR_FW_LIST", r, `listing ${spec.toChain}`);
        }
        for (const line of r.stdout.split("\n")) {
          const rule = parseRuleLine(line, spec.toChain, kind);
          if (rule) rules.push(rule);
        }
      }
    }
    return rules;
  }

  async flush(): Promise<void> {
    for (const family of ["ipv4", "ipv6"] as const) {
      await deleteChains((args) => this.#cmd(family, args), this.#specs(family));
    }
  }

  async listText(all: boolean): Promise<string> {
    if (this.empty) return "";
    const parts = [`${all ? DIRECT_LIST_ALL_HEADING : DIRECT_LIST_HEADING}\n`];
    for (const spec of this.#specs("ipv4")) {
      const r = await this.#cmd(
        "ipv4",
        all ? directArgs.listAll(spec) : directArgs.listChain(spec),
      );
      parts.push(all ? r.stdout : `\n${r.stdout}`);
    }
    return parts.join("");
  }

  async #probeCheckSupport(input: ChainSpec): Promise<boolean> {
    const probe = ["-s", PROBE_SRC.ipv4, "-p", "udp", "-j", input.target];
    await this.#cmd("ipv4", ["-t", input.table, "-I", input.fromChain, "1", ...probe]);
    const r = await this.#cmd("ipv4", ["-C", input.fromChain, "-t", input.table, ...probe]);
    await this.#cmd("ipv4", ["-t", input.table, "-D", input.fromChain, ...probe]);
    if (r.code !== 0)
      this.#o.log.debug("firewall-cmd passthrough -C is not supported; using chain listings");
    return r.code === 0;
  }

  async #ensureChain(family: DirectFamily, spec: ChainSpec): Promise<void> {
    const created = await this.#cmd(family, directArgs.createChain(spec));
    if (created.code !== 0 && !/already exists/i.test(created.stderr)) {
      throw this.#error("FWK_ERR_FW_INIT", created, `creating chain ${spec.toChain} (${family})`);
    }
    if (await this.#jumpExists(family, spec)) return;
    const jump = await this.#cmd(family, directArgs.addJump(spec));
    if (jump.code !== 0) {
      throw this.#error(
        "FWK_ERR_FW_INIT",
        jump,
        `adding jump rule from ${spec.fromChain} to ${spec.toChain}`,
      );
    }
    const tool = family === "ipv4" ? "" : " (ipv6)";
    this.#o.log.info(
      `Added jump rule from chain: ${spec.fromChain} to chain: ${spec.toChain}${tool}`,
    );
  }

  async #jumpExists(family: DirectFamily, spec: ChainSpec): Promise<boolean> {
    if (this.#checkSupport) return (await this.#cmd(family, directArgs.checkJump(spec))).code === 0;
    return (await this.#cmd(family, directArgs.listJumps(spec))).stdout.includes(
      ` ${spec.toChain} `,
    );
  }

  async #checkComment(input: ChainSpec): Promise<void> {
    if (!(await commentMatchWorks((args) => this.#cmd("ipv4", args), input, PROBE_SRC.ipv4))) {
      throw new FwknopError(
        "FWK_ERR_FW_COMMENT_CHECK",
        `the iptables 'comment' match is not available through ${this.#o.exe} --direct --passthrough; set ENABLE_FIREWD_COMMENT_CHECK N only if rules can still carry their _exp_ comment`,
      );
    }
  }

  #spec(kind: ChainKind): ChainSpec {
    return activeChain(this.#o.chains, kind, "ENABLE_FIREWD_*");
  }

  /** The chains of one family: IPv6 gets the access chains only (NAT is IPv4, see policy.ts). */
  #entries(family: DirectFamily): [ChainKind, ChainSpec][] {
    return Object.entries(this.#o.chains).filter(
      (e): e is [ChainKind, ChainSpec] =>
        e[1] !== undefined && (family === "ipv4" || e[0] === "input" || e[0] === "output"),
    );
  }

  #specs(family: DirectFamily): ChainSpec[] {
    return this.#entries(family).map(([, spec]) => spec);
  }

  #cmd(family: DirectFamily, args: readonly string[]): Promise<RunResult> {
    return run(
      passthrough(this.#o.exe, family, args),
      this.#o.netns !== undefined ? { netns: this.#o.netns } : {},
    );
  }

  #error(code: ToolErrorCode, r: RunResult, what: string): FwknopError {
    return toolError(code, this.#o.exe, r, what);
  }
}
