/**
 * The ipfw backend (FIREWALL_TYPE ipfw, spec §11.4), as fwknopd 2.6.10 drives ipfw: each grant is a
 * numbered rule in the active set (the proto/ports of one knock share one number); an expired
 * rule is moved to the disabled expire set, where its dynamic state (established connections)
 * lives on, and purged every IPFW_EXPIRE_PURGE_INTERVAL seconds once that state is gone.
 * Untested on a real BSD: the tests drive a recording stand-in for ipfw (scripts/ipfw-standin.ts).
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import type { BackendOptions, ChainKind, FirewallBackend, Rule } from "./backend.js";
import {
  DEFAULT_IPFW_SETTINGS,
  freeRuleNumbers,
  type IpfwBackendSettings,
  type IpfwListed,
  type IpfwSettings,
  ipfwAddArgs,
  ipfwArgs,
  parseIpfwList,
} from "./ipfw-rules.js";
import { ruleKey } from "./rules.js";
import { type ToolErrorCode, toolError } from "./tool-error.js";

export const IPFW_LIST_HEADING = "Listing fwknopd ipfw rules...";
export const IPFW_LIST_ALL_HEADING = "Listing all ipfw rules...";

type Code = ToolErrorCode;

export class IpfwBackend implements FirewallBackend {
  readonly name = "ipfw";
  readonly #exe: string;
  readonly #s: IpfwSettings;
  readonly #log: Logger;
  readonly #netns: string | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;

  constructor(settings: IpfwBackendSettings, opts: BackendOptions) {
    if (!settings.exe) {
      throw new FwknopError("FWK_ERR_FW_NO_EXE", "No firewall command executable is set");
    }
    this.#exe = settings.exe;
    this.#s = settings.ipfw ?? DEFAULT_IPFW_SETTINGS;
    this.#log = opts.log;
    this.#netns = opts.netns;
  }

  chainName(_kind: ChainKind): string {
    return `set ${this.#s.activeSet}`;
  }

  async init(opts: { flush: boolean }): Promise<void> {
    if (opts.flush) await this.flush();
    await this.#checked(
      ipfwArgs.disableSet(this.#s.expireSet),
      "FWK_ERR_FW_INIT",
      "disabling the expire set",
    );
    if (this.#s.addCheckState) {
      const { rules } = await this.#listActive("FWK_ERR_FW_INIT");
      if (!rules.some((r) => r.checkState)) {
        const [num] = freeRuleNumbers(this.#s, new Set(rules.map((r) => r.num)), 1);
        if (num === undefined) throw this.#exhausted();
        await this.#checked(
          ipfwArgs.checkState(num, this.#s),
          "FWK_ERR_FW_INIT",
          "adding check-state",
        );
      }
    }
    if (this.#purgeTimer === undefined) {
      this.#purgeTimer = setInterval(() => {
        this.purgeExpired().catch((e: unknown) =>
          this.#log.error(`ipfw expire-set purge failed: ${(e as Error).message}`),
        );
      }, this.#s.purgeInterval * 1000).unref();
    }
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const active = await this.#listActive("FWK_ERR_FW_APPLY");
    const expired = parseIpfwList(
      (
        await this.#checked(
          ipfwArgs.listExpired(this.#s),
          "FWK_ERR_FW_APPLY",
          "listing the expire set",
        )
      ).stdout,
    );
    // Numbers stay taken while their rule waits in the expire set (as upstream's rule map).
    const used = new Set([...active.rules, ...expired.rules].map((r) => r.num));
    const gone = new Set(remove.map((r) => `${ruleKey(r)}@${r.expiresAt}`));
    const isGone = (l: IpfwListed) =>
      l.rule !== undefined && gone.has(`${ruleKey(l.rule)}@${l.rule.expiresAt}`);
    const moveNums = new Set(active.rules.filter(isGone).map((l) => l.num));
    // `set move rule N` moves every rule numbered N: rules of that number that stay are re-added.
    const survivors = active.rules.filter((l) => moveNums.has(l.num) && !isGone(l) && l.rule);
    const groups = groupByKnock([...survivors.flatMap((l) => l.rule ?? []), ...add]);
    const nums = freeRuleNumbers(this.#s, used, groups.length);
    // Nothing is changed when the window is full; the ledger then applies the rest on its own.
    if (nums.length < groups.length) throw this.#exhausted();
    // New rules first: a refreshed grant is never without a live rule.
    for (const [i, group] of groups.entries()) {
      const num = nums[i] as number;
      for (const rule of group) {
        await this.#checked(
          ipfwAddArgs(num, rule, this.#s),
          "FWK_ERR_FW_APPLY",
          `adding rule ${num}`,
        );
      }
    }
    for (const num of moveNums) {
      await this.#checked(
        ipfwArgs.moveRule(num, this.#s),
        "FWK_ERR_FW_APPLY",
        `moving rule ${num} to the expire set`,
      );
    }
  }

  async listInstalled(): Promise<Rule[]> {
    const { rules } = await this.#listActive("FWK_ERR_FW_LIST");
    return rules.flatMap((l) => l.rule ?? []);
  }

  /** Delete expired rules whose dynamic state is gone; returns the rule numbers purged. */
  async purgeExpired(): Promise<number[]> {
    const listed = parseIpfwList(
      (
        await this.#checked(
          ipfwArgs.listExpired(this.#s),
          "FWK_ERR_FW_LIST",
          "listing the expire set",
        )
      ).stdout,
    );
    const { dynamic } = parseIpfwList(
      (
        await this.#checked(
          ipfwArgs.listExpiredDynamic(this.#s),
          "FWK_ERR_FW_LIST",
          "listing dynamic rules",
        )
      ).stdout,
    );
    const purged = [...new Set(listed.rules.map((l) => l.num))].filter((n) => !dynamic.has(n));
    for (const num of purged) {
      await this.#checked(
        ipfwArgs.deleteFromSet(this.#s.expireSet, num),
        "FWK_ERR_FW_APPLY",
        `purging rule ${num}`,
      );
      this.#log.debug(`Purged expired ipfw rule ${num} (no dynamic state left)`);
    }
    return purged;
  }

  async flush(): Promise<void> {
    // An empty set makes ipfw complain; what counts is that nothing of ours is left.
    await this.#ipfw(ipfwArgs.deleteSet(this.#s.activeSet));
    await this.#ipfw(ipfwArgs.deleteSet(this.#s.expireSet));
    if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
    this.#purgeTimer = undefined;
  }

  async listText(all: boolean): Promise<string> {
    if (all) return `${IPFW_LIST_ALL_HEADING}\n${(await this.#ipfw(["list"])).stdout}`;
    const live = await this.#ipfw(["set", String(this.#s.activeSet), "list"]);
    const expired = await this.#ipfw(["set", String(this.#s.expireSet), "list"]);
    return `${IPFW_LIST_HEADING}\n${live.stdout}\nExpired rules (set ${this.#s.expireSet}):\n${expired.stdout}`;
  }

  async #listActive(code: Code): Promise<ReturnType<typeof parseIpfwList>> {
    const r = await this.#checked(
      ipfwArgs.listActive(this.#s),
      code,
      `listing set ${this.#s.activeSet}`,
    );
    return parseIpfwList(r.stdout);
  }

  #exhausted(): FwknopError {
    const last = this.#s.startRuleNum + this.#s.maxRules - 1;
    return new FwknopError(
      "FWK_ERR_FW_IPFW_RULES_EXHAUSTED",
      `no free ipfw rule number in ${this.#s.startRuleNum}-${last} (IPFW_MAX_RULES ${this.#s.maxRules} reached); access not granted`,
    );
  }

  async #checked(args: readonly string[], code: Code, what: string): Promise<RunResult> {
    const r = await this.#ipfw(args);
    if (r.code !== 0) throw toolError(code, this.#exe, r, what);
    return r;
  }

  #ipfw(args: readonly string[]): Promise<RunResult> {
    return run([this.#exe, ...args], this.#netns !== undefined ? { netns: this.#netns } : {});
  }
}

/** The rules of one knock (same source, destination and expiry) share one rule number upstream. */
function groupByKnock(rules: readonly Rule[]): Rule[][] {
  const groups = new Map<string, Rule[]>();
  for (const r of rules) {
    const key = `${r.src}|${r.dst ?? ""}|${r.expiresAt}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}
