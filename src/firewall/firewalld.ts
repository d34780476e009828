/**
 * The firewalld backend (FIREWALL_TYPE firewalld). Two modes (FIREWD_MODE):
 *
 * - `rich` (default, ours): access grants are runtime rich rules in the zone (FIREWD_ZONE, default
 *   zone if unset), added with `--timeout`, so firewalld removes them on time even if fwknopd has
 *   died, and they work with firewalld's nftables backend, where a zone that does not list a port
 *   rejects it whatever iptables says. Kinds a rich rule cannot carry (OUTPUT, FORWARD, DNAT,
 *   SNAT, MASQUERADE) use 2.6.10's passthrough chains (firewalld-direct.ts).
 * - `passthrough`: fwknopd 2.6.10's firewalld build exactly (spec §11.2) — every rule an iptables
 *   rule through `firewall-cmd --direct --passthrough`.
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import type { BackendOptions, ChainKind, FirewallBackend, Rule } from "./backend.js";
import {
  DEFAULT_FIREWALLD_SETTINGS,
  type FirewalldBackendSettings,
  type FirewalldSettings,
  parseRichRule,
  richAddArgv,
  richRemoveArgv,
} from "./firewalld-commands.js";
import { DirectChains } from "./firewalld-direct.js";
import { toolError } from "./tool-error.js";

export const RICH_LIST_HEADING = "Listing fwknopd rich rules in firewalld...";

export class FirewalldBackend implements FirewallBackend {
  readonly name = "firewalld";
  readonly #exe: string;
  readonly #fwd: FirewalldSettings;
  readonly #settings: FirewalldBackendSettings;
  readonly #direct: DirectChains;
  readonly #log: Logger;
  readonly #netns: string | undefined;

  constructor(settings: FirewalldBackendSettings, opts: BackendOptions) {
    if (!settings.exe) {
      throw new FwknopError("FWK_ERR_FW_NO_EXE", "No firewall command executable is set");
    }
    this.#exe = settings.exe;
    this.#settings = settings;
    this.#fwd = settings.firewalld ?? DEFAULT_FIREWALLD_SETTINGS;
    this.#log = opts.log;
    this.#netns = opts.netns;
    const chains = { ...settings.chains };
    if (this.#rich) delete chains.input;
    this.#direct = new DirectChains({
      exe: settings.exe,
      chains,
      prepend: settings.prepend,
      commentCheck: settings.commentCheck,
      checkSupport: settings.checkSupport && opts.noCheckSupport !== true,
      log: opts.log,
      netns: opts.netns,
    });
  }

  get #rich(): boolean {
    return this.#fwd.mode === "rich";
  }

  chainName(kind: ChainKind): string {
    if (this.#rich && kind === "input") return `zone ${this.#fwd.zone ?? "(default)"}`;
    return this.#settings.chains[kind]?.toChain ?? kind;
  }

  async init(opts: { flush: boolean }): Promise<void> {
    const state = await this.#cmd([this.#exe, "--state"]);
    if (state.code !== 0) {
      throw new FwknopError(
        "FWK_ERR_FW_INIT",
        `firewalld is not running (${this.#exe} --state exited with status ${state.code}: ${(state.stderr || state.stdout).trim()})`,
      );
    }
    if (this.#rich && opts.flush) await this.#flushRich();
    await this.#direct.init(opts.flush);
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const isRich = (r: Rule) => this.#rich && r.chain === "input";
    await this.#applyRich(add.filter(isRich), remove.filter(isRich));
    const directAdd = add.filter((r) => !isRich(r));
    const directRemove = remove.filter((r) => !isRich(r));
    if (directAdd.length > 0 || directRemove.length > 0)
      await this.#direct.apply(directAdd, directRemove);
  }

  async listInstalled(): Promise<Rule[]> {
    const rules = this.#rich ? await this.#listRich() : [];
    return [...rules, ...(await this.#direct.listInstalled())];
  }

  async flush(): Promise<void> {
    if (this.#rich) await this.#flushRich();
    await this.#direct.flush();
  }

  async listText(all: boolean): Promise<string> {
    const parts: string[] = [];
    if (this.#rich) {
      const r = await this.#cmd([this.#exe, ...this.#zoneArg(), "--list-rich-rules"]);
      const lines = all
        ? r.stdout
        : r.stdout
            .split("\n")
            .filter((l) => parseRichRule(l))
            .map((l) => `${l}\n`)
            .join("");
      parts.push(`${RICH_LIST_HEADING}\n\n${lines}`);
    }
    const direct = await this.#direct.listText(all);
    if (direct !== "") parts.push(direct);
    return parts.join("\n");
  }

  /**
   * One call per distinct remaining lifetime (--timeout is per call), then the removals in one
   * call: a refreshed grant's new rule (another `_exp_`, so another rule) is in before the old
   * one goes, so a re-knock never opens a gap.
   */
  async #applyRich(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    const nowSec = Date.now() / 1000;
    const byTimeout = new Map<number, Rule[]>();
    for (const rule of add) {
      const timeout = Math.max(1, Math.ceil(rule.expiresAt - nowSec));
      byTimeout.set(timeout, [...(byTimeout.get(timeout) ?? []), rule]);
    }
    for (const [timeout, rules] of byTimeout) {
      const r = await this.#cmd(richAddArgv(this.#exe, this.#fwd.zone, rules, timeout));
      if (r.code !== 0) throw this.#error(r, `adding ${rules.length} rich rule(s)`);
    }
    if (remove.length > 0) {
      // Removing a rule firewalld already timed out is only a NOT_ENABLED warning (exit 0).
      const r = await this.#cmd(richRemoveArgv(this.#exe, this.#fwd.zone, remove));
      if (r.code !== 0) throw this.#error(r, `removing ${remove.length} rich rule(s)`);
    }
  }

  async #listRich(): Promise<Rule[]> {
    const r = await this.#cmd([this.#exe, ...this.#zoneArg(), "--list-rich-rules"]);
    if (r.code !== 0) throw toolError("FWK_ERR_FW_LIST", this.#exe, r, "listing rich rules");
    return r.stdout.split("\n").flatMap((l) => parseRichRule(l) ?? []);
  }

  async #flushRich(): Promise<void> {
    const ours = await this.#listRich();
    if (ours.length === 0) return;
    const r = await this.#cmd(richRemoveArgv(this.#exe, this.#fwd.zone, ours));
    if (r.code !== 0) throw this.#error(r, `removing ${ours.length} rich rule(s)`);
    this.#log.debug(`Removed ${ours.length} fwknop rich rule(s) from firewalld`);
  }

  #zoneArg(): string[] {
    return this.#fwd.zone ? [`--zone=${this.#fwd.zone}`] : [];
  }

  #cmd(argv: readonly string[]): Promise<RunResult> {
    return run(argv, this.#netns !== undefined ? { netns: this.#netns } : {});
  }

  #error(r: RunResult, what: string): FwknopError {
    return toolError("FWK_ERR_FW_APPLY", this.#exe, r, what);
  }
}
