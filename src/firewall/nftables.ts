/**
 * The nftables backend (FIREWALL_TYPE nftables; upstream fwknopd has none). Everything lives in one
 * table of ours (`inet fwknop`, NFT_TABLE): plain access grants are elements of timed sets, which
 * the kernel expires even if the daemon dies, and the other kinds are rules with `_exp_<ts>`
 * comments in regular chains. The JSON it speaks is built in nft-json.ts, the native lines of
 * element-only batches (every plain knock) in nft-native.ts; each ledger batch is one atomic
 * transaction, sent to a long-lived nft (nft-session.ts).
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import type { BackendOptions, FirewallBackend } from "./backend.js";
import { NftAttach } from "./nft-attach.js";
import {
  applyCommands,
  BASE_CHAIN_NAMES,
  elementOf,
  flushCommands,
  type ListedRule,
  layoutCommands,
  type NftLayout,
  parseListing,
  script,
} from "./nft-json.js";
import { nativeElementBatch } from "./nft-native.js";
import { NftTransactions } from "./nft-session.js";
import {
  DEFAULT_NFT_SETTINGS,
  NFT_CHAIN_VARIABLES,
  type NftBackendSettings,
} from "./nft-settings.js";
import type { ChainKind, Rule } from "./rule.js";
import { ruleKey } from "./rules.js";
import { type ToolErrorCode, toolError } from "./tool-error.js";

export const NFT_LIST_HEADING = "Listing rules in fwknopd nftables table...";
export const NFT_LIST_ALL_HEADING = "Listing the whole nftables ruleset...";

export class NftablesBackend implements FirewallBackend {
  readonly name = "nftables";
  readonly #exe: string;
  readonly #layout: NftLayout;
  /** Where our names' variables were set, for the error when nft refuses a name. */
  readonly #setAt: Readonly<Record<string, string>>;
  readonly #log: Logger;
  readonly #netns: string | undefined;
  /** NFT_ATTACH: our mark-accept line in the admin's chain, kept there while we run. */
  readonly #attach: NftAttach | undefined;
  readonly #transactions: NftTransactions;

  constructor(settings: NftBackendSettings, opts: BackendOptions) {
    if (!settings.exe) {
      throw new FwknopError("FWK_ERR_FW_NO_EXE", "No firewall command executable is set");
    }
    const nft = settings.nft ?? DEFAULT_NFT_SETTINGS;
    const chains: NftLayout["chains"] = {};
    for (const [kind, spec] of Object.entries(settings.chains)) {
      if (spec) chains[kind as ChainKind] = spec.toChain;
    }
    this.#exe = settings.exe;
    this.#layout = {
      table: nft.table,
      priority: nft.priority,
      mark: nft.mark,
      chains,
      prepend: settings.prepend,
    };
    this.#setAt = nft.setAt ?? {};
    this.#log = opts.log;
    this.#netns = opts.netns;
    this.#transactions = new NftTransactions(settings.exe, opts.log, opts.netns);
    if (nft.attach) {
      this.#attach = new NftAttach(settings.exe, nft.attach, nft.mark, opts.log, opts.netns);
    }
  }

  chainName(kind: ChainKind): string {
    return this.#layout.chains[kind] ?? kind;
  }

  async init(opts: { flush: boolean }): Promise<void> {
    await this.#checkNames();
    const cmds = [
      ...(opts.flush ? flushCommands(this.#layout.table) : []),
      ...layoutCommands(this.#layout),
    ];
    const r = await this.#transaction(script(cmds));
    if (r.code !== 0)
      throw this.#error("FWK_ERR_FW_INIT", r, `creating table inet ${this.#layout.table}`);
    this.#log.debug(`nftables table inet ${this.#layout.table} ready`);
    if (this.#attach) {
      await this.#attach.ensure();
      this.#attach.start();
    }
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const inSet = (r: Rule) =>
      r.via === "set" || (r.via === undefined && elementOf(r) !== undefined);
    const removeElements = remove.filter(inSet);
    const chainRemovals = remove.filter((r) => !inSet(r));
    // Rules are deleted by handle, so look them up; one already gone needs no deletion.
    const removeRules = chainRemovals.length > 0 ? await this.#handles(chainRemovals) : [];
    const nowMs = Date.now();
    const native =
      removeRules.length === 0
        ? nativeElementBatch(this.#layout.table, add, removeElements, nowMs)
        : undefined;
    const batch =
      native ?? script(applyCommands(this.#layout, add, removeElements, removeRules, nowMs / 1000));
    let r = await this.#transaction(batch);
    // Someone deleted our table or a chain: re-create the layout (keeps what is left) and retry.
    if (r.code !== 0 && add.length > 0 && /No such file or directory/.test(r.stderr)) {
      this.#log.warn(`nftables table inet ${this.#layout.table} was incomplete; re-creating it`);
      const healed = await this.#transaction(script(layoutCommands(this.#layout)));
      if (healed.code === 0) r = await this.#transaction(batch);
    }
    if (r.code !== 0) {
      throw this.#error(
        "FWK_ERR_FW_APPLY",
        r,
        `applying ${add.length} addition(s) and ${remove.length} removal(s)`,
      );
    }
  }

  async listInstalled(): Promise<Rule[]> {
    const listed = await this.#list();
    return [...listed.elements, ...listed.rules.map((l) => l.rule)];
  }

  async flush(): Promise<void> {
    await this.#attach?.remove();
    const r = await this.#transaction(script(flushCommands(this.#layout.table)));
    await this.#transactions.close();
    if (r.code !== 0)
      throw this.#error("FWK_ERR_FW_APPLY", r, `deleting table inet ${this.#layout.table}`);
  }

  async listText(all: boolean): Promise<string> {
    const argv = all ? ["list", "ruleset"] : ["list", "table", "inet", this.#layout.table];
    // As the iptables backend: nft's stdout only, so a table not created yet lists as empty.
    const r = await this.#nft(argv);
    return `${all ? NFT_LIST_ALL_HEADING : NFT_LIST_HEADING}\n\n${r.stdout}`;
  }

  /** Our table as rules; a missing table (never created, or flushed) holds nothing. */
  #list(): Promise<{ elements: Rule[]; rules: ListedRule[] }> {
    return this.#listing(["table", "inet", this.#layout.table]);
  }

  /** `nft -j list <what>` read back into rules; a missing table or chain holds nothing. */
  async #listing(what: readonly string[]): Promise<{ elements: Rule[]; rules: ListedRule[] }> {
    const r = await this.#nft(["-j", "list", ...what]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return { elements: [], rules: [] };
      throw this.#error("FWK_ERR_FW_LIST", r, `listing ${what.join(" ")}`);
    }
    return parseListing(this.#layout, r.stdout);
  }

  /**
   * The installed chain rules these rules are (same identity and expiry). Only their chains are
   * listed: the whole table would bring every set element along (about 2 s at 100,000 grants).
   */
  async #handles(rules: readonly Rule[]): Promise<ListedRule[]> {
    const wanted = new Set(rules.map((r) => `${ruleKey(r)}@${r.expiresAt}`));
    const found: ListedRule[] = [];
    for (const chain of new Set(rules.map((r) => this.chainName(r.chain)))) {
      const { rules: listed } = await this.#listing(["chain", "inet", this.#layout.table, chain]);
      for (const l of listed) {
        if (wanted.has(`${ruleKey(l.rule)}@${l.rule.expiresAt}`)) found.push(l);
      }
    }
    return found;
  }

  /** One line (a JSON batch or native commands) as one transaction. */
  #transaction(batch: string): Promise<RunResult> {
    return this.#transactions.apply(batch);
  }

  /**
   * Our table and chain names pass our own check (nft-settings.ts) but may still be words nft's
   * syntax reserves (`ip`, `tcp`, `table`, ... — the list grows with nft versions). nft creates
   * a table or chain so named from JSON but cannot list it or name it in a command (nft 1.0.6
   * takes no quoted names), so adoption, the sweep and `--fw-list` would fail, and a chain's
   * expired rules could not be looked up to be removed. nft's check mode asks its own parser,
   * before any change: every name in one run, and only if that is refused, each name alone to
   * tell which.
   */
  async #checkNames(): Promise<void> {
    const { table, chains } = this.#layout;
    const named = Object.entries(chains) as [ChainKind, string][];
    // A regular chain named like one of our base chains would be the same chain: nft refuses
    // the layout ("Operation not supported"), which says nothing of the variable to change.
    for (const [kind, chain] of named) {
      if (BASE_CHAIN_NAMES.has(chain)) {
        const variable = NFT_CHAIN_VARIABLES[kind];
        throw new FwknopError(
          "FWK_ERR_CONFIG_VALUE",
          `${this.#setAt[variable] ?? variable}: ${variable} '${chain}' is the name of one of our base chains (${[...BASE_CHAIN_NAMES].join(", ")}); choose another name`,
        );
      }
    }
    const addTable = `add table inet ${table}`;
    const addChain = (chain: string) => `${addTable}; add chain inet ${table} ${chain}`;
    if (!(await this.#refuses([addTable, ...named.map(([, c]) => addChain(c))].join("; ")))) return;
    if (await this.#refuses(addTable)) throw this.#reserved("NFT_TABLE", table);
    for (const [kind, chain] of named) {
      if (await this.#refuses(addChain(chain))) {
        throw this.#reserved(NFT_CHAIN_VARIABLES[kind], chain);
      }
    }
  }

  /** Whether nft's parser refuses `commands` (check mode: nothing is applied). */
  async #refuses(commands: string): Promise<boolean> {
    // An nft that cannot run at all is reported by the first transaction, as before this check.
    const r = await this.#nft(["-c", commands]).catch(() => undefined);
    return r !== undefined && r.code !== 0 && /syntax error/i.test(r.stderr);
  }

  #reserved(variable: string, name: string): FwknopError {
    return new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${this.#setAt[variable] ?? variable}: ${variable} '${name}' is a word nft's syntax reserves: nft cannot list or name it; choose another name`,
    );
  }

  #nft(args: readonly string[]): Promise<RunResult> {
    return run([this.#exe, ...args], this.#netns !== undefined ? { netns: this.#netns } : {});
  }

  #error(code: ToolErrorCode, r: RunResult, what: string): FwknopError {
    return toolError(code, this.#exe, r, what);
  }
}
