/**
 * The iptables backend (spec §11.1): upstream's FWKNOP_* chains, jump rules and `_exp_<ts>`
 * comments, so `iptables -L` looks exactly as with fwknopd 2.6.10 and each daemon can adopt the
 * other's rules. Unlike upstream, changes go in batches: one `iptables-restore --noflush` per
 * batch (atomic per table) instead of several iptables processes per rule. With ENABLE_IPT_IPSET
 * plain INPUT grants go to an ipset instead (see iptables-ipset.ts). One instance drives one family: IPv4
 * (`iptables`) or IPv6 (`ip6tables`, same chains and comments); iptables-dual-stack.ts combines the two.
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import { CommandSession, type SessionOptions } from "../sys/session.js";
import type { BackendOptions, FirewallBackend } from "./backend.js";
import { activeChain, commentMatchWorks, deleteChains } from "./chain-steps.js";
import {
  addLine,
  createSetLines,
  delLine,
  elementKey,
  fitsSet,
  type IpsetNames,
  ipsetNames,
  parseSetList,
  setMatchArgs,
} from "./iptables-ipset.js";
import type { ChainKind, Rule } from "./rule.js";
import { parseRuleLine } from "./rule-line.js";
import { ruleArgs } from "./rules.js";
import type { ChainSpec, FirewallSettings } from "./settings.js";
import { type ToolErrorCode, toolError } from "./tool-error.js";

export const FW_LIST_HEADING = "Listing rules in fwknopd iptables chains...";
export const FW_LIST_ALL_HEADING = "Listing all iptables rules in applicable tables...";
export const FW_FLUSH_HEADING = "Deleting any existing firewall rules...";

export type IpFamily = "inet" | "inet6";

/**
 * Per family: upstream's probe address for the -C and comment checks (IPv6: the loopback
 * address, as harmless in a momentary ACCEPT rule), the address of the ipset ack, and the tool
 * name in the --fw-list headings.
 */
const FAMILY = {
  inet: { probeSrc: "127.0.0.2", anyAddr: "0.0.0.0", tool: "iptables" },
  inet6: { probeSrc: "::1", anyAddr: "::", tool: "ip6tables" },
} as const satisfies Record<IpFamily, { probeSrc: string; anyAddr: string; tool: string }>;
const IPSET_EXE = "ipset";
/** A set change that is not acknowledged within this time kills the ipset session. */
const SESSION_TIMEOUT_MS = 10_000;

export class IptablesBackend implements FirewallBackend {
  readonly name: string;
  readonly #family: (typeof FAMILY)[IpFamily];
  /** FIREWALL_EXE, or its IPv6 sibling for the inet6 family. */
  readonly #exe: string;
  readonly #settings: FirewallSettings;
  readonly #log: Logger;
  readonly #netns: string | undefined;
  readonly #sets: IpsetNames | undefined;
  #checkSupport: boolean;
  #session: CommandSession | undefined;

  constructor(settings: FirewallSettings, opts: BackendOptions, family: IpFamily = "inet") {
    const exe = family === "inet6" ? settings.exe6 : settings.exe;
    if (!exe) {
      throw new FwknopError(
        "FWK_ERR_FW_NO_EXE",
        `No firewall command executable is set${family === "inet6" ? " for IPv6" : ""}`,
      );
    }
    this.#exe = exe;
    this.#family = FAMILY[family];
    this.name = this.#family.tool;
    this.#settings = settings;
    this.#log = opts.log;
    this.#netns = opts.netns;
    this.#checkSupport = settings.checkSupport && opts.noCheckSupport !== true;
    const input = settings.chains.input;
    this.#sets = settings.ipset && input ? ipsetNames(input, family) : undefined;
  }

  chainName(kind: ChainKind): string {
    return this.#settings.chains[kind]?.toChain ?? kind;
  }

  async init(opts: { flush: boolean }): Promise<void> {
    const input = this.#spec("input");
    if (this.#checkSupport) this.#checkSupport = await this.#probeCheckSupport(input);
    if (opts.flush) await this.flush();
    for (const spec of this.#activeSpecs()) await this.#ensureChain(spec);
    if (this.#sets) await this.#ensureSets(input, this.#sets);
    if (this.#settings.commentCheck) await this.#checkComment(input);
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const inSet = (r: Rule) => r.via === "ipset" || (r.via === undefined && this.#usesSet(r));
    const setAdds = add.filter((r) => this.#usesSet(r));
    const chainAdds = add.filter((r) => !this.#usesSet(r));
    const setDels = remove.filter(inSet);
    const chainDels = remove.filter((r) => !inSet(r));
    if (this.#sets && (setAdds.length > 0 || setDels.length > 0)) {
      await this.#applySets(this.#sets, setAdds, setDels);
    }
    if (chainAdds.length > 0 || chainDels.length > 0) await this.#applyChains(chainAdds, chainDels);
  }

  /** Where this backend puts a new rule: the ipset (ipset mode, plain INPUT grants) or a chain. */
  #usesSet(r: Rule): boolean {
    return this.#sets !== undefined && fitsSet(r);
  }

  async listInstalled(): Promise<Rule[]> {
    const rules: Rule[] = [];
    for (const [kind, spec] of this.#activeEntries()) {
      const r = await this.#ipt(["-t", spec.table, "-S", spec.toChain]);
      if (r.code !== 0) {
        if (/No chain|does not exist/i.test(r.stderr)) continue;
        throw this.#error("FWK_ERR_FW_LIST", this.#exe, r, `listing ${spec.toChain}`);
      }
      for (const line of r.stdout.split("\n")) {
        const rule = parseRuleLine(line, spec.toChain, kind);
        if (rule) rules.push(rule);
      }
    }
    if (this.#sets) {
      for (const set of [this.#sets.any, this.#sets.dst]) {
        const r = await this.#cmd([IPSET_EXE, "list", set]);
        if (r.code !== 0) {
          if (/does not exist/i.test(r.stderr)) continue;
          throw this.#error("FWK_ERR_FW_LIST", IPSET_EXE, r, `listing set ${set}`);
        }
        rules.push(...parseSetList(r.stdout));
      }
    }
    return rules;
  }

  async flush(): Promise<void> {
    await deleteChains((args) => this.#ipt(args), this.#activeSpecs());
    // Sets can only go once no rule references them, i.e. after the chains.
    await this.#session?.close();
    this.#session = undefined;
    if (this.#sets) {
      for (const set of [this.#sets.any, this.#sets.dst])
        await this.#cmd([IPSET_EXE, "destroy", set]);
    }
  }

  async listText(all: boolean): Promise<string> {
    const heading = all ? FW_LIST_ALL_HEADING : FW_LIST_HEADING;
    const parts = [`${heading.replace("iptables", this.#family.tool)}\n`];
    for (const spec of this.#activeSpecs()) {
      // Upstream prints a blank line before each chain listing, and nothing between table dumps.
      const argv = all
        ? ["-t", spec.table, "-v", "-n", "-L", "--line-numbers"]
        : ["-t", spec.table, "-L", spec.toChain, "--line-numbers", "-n"];
      const r = await this.#ipt(argv);
      this.#log.debug(`fw_dump_rules() CMD: '${[this.#exe, ...argv].join(" ")}' (res: ${r.code})`);
      parts.push(all ? r.stdout : `\n${r.stdout}`);
    }
    // Our addition in ipset mode: the grants themselves live in the sets, not in the chain.
    if (this.#sets) {
      for (const set of [this.#sets.any, this.#sets.dst]) {
        parts.push(`\n${(await this.#cmd([IPSET_EXE, "list", set])).stdout}`);
      }
    }
    return parts.join("");
  }

  async #applyChains(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    const byTable = new Map<string, string[]>();
    const line = (table: string, text: string) => {
      const lines = byTable.get(table) ?? [];
      lines.push(text);
      byTable.set(table, lines);
    };
    // Removals first: a refreshed grant's old rule and its replacement commit together.
    for (const r of remove) {
      const spec = this.#spec(r.chain);
      line(spec.table, ["-D", spec.toChain, ...ruleArgs(r, spec)].join(" "));
    }
    for (const r of add) {
      const spec = this.#spec(r.chain);
      const verb = this.#settings.prepend ? ["-I", spec.toChain, "1"] : ["-A", spec.toChain];
      line(spec.table, [...verb, ...ruleArgs(r, spec)].join(" "));
    }
    let script = "";
    for (const [table, lines] of byTable) script += `*${table}\n${lines.join("\n")}\nCOMMIT\n`;
    const exe = `${this.#exe}-restore`;
    let r = await this.#cmd([exe, "--noflush"], script);
    // Upstream re-creates a missing chain and jump rule before every add; we do it when a batch
    // fails (someone ran iptables -X or flushed INPUT), then try once more.
    // A heal that fails itself changes nothing: the batch's own failure is what gets reported.
    if (r.code !== 0 && add.length > 0 && (await this.#healChains(add).catch(() => false))) {
      r = await this.#cmd([exe, "--noflush"], script);
    }
    if (r.code !== 0) {
      throw this.#error(
        "FWK_ERR_FW_APPLY",
        exe,
        r,
        `applying ${add.length} addition(s) and ${remove.length} removal(s)`,
      );
    }
  }

  async #applySets(sets: IpsetNames, add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    const now = Date.now() / 1000;
    // An add -exist of the same element replaces timeout and comment in place, so deleting the
    // old entry first would only open a gap.
    const replaced = new Set(add.map((r) => elementKey(sets, r)));
    const lines = [
      // Idempotent, and it guarantees the ack's set exists even if someone destroyed it.
      ...createSetLines(sets),
      ...remove.filter((r) => !replaced.has(elementKey(sets, r))).map((r) => delLine(sets, r)),
      ...add.map((r) => addLine(sets, r, now)),
    ];
    let errors: string;
    try {
      errors = await this.#ipsetSession(sets).request(lines.join("\n"));
    } catch (e) {
      throw new FwknopError("FWK_ERR_FW_APPLY", `${IPSET_EXE}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (errors !== "") {
      throw new FwknopError(
        "FWK_ERR_FW_APPLY",
        `applying ${add.length} set addition(s) and ${remove.length} set removal(s): ${IPSET_EXE} reported: ${errors.split("\n")[0]}`,
      );
    }
  }

  /** One long-lived `ipset -exist -` for all set changes: a spawn costs more than the change. */
  #ipsetSession(sets: IpsetNames): CommandSession {
    if (!this.#session) {
      const opts: SessionOptions = {
        ackCommand: `test ${sets.any} ${this.#family.anyAddr},tcp:0`,
        ackMarker: `is NOT in set ${sets.any}.`,
        timeoutMs: SESSION_TIMEOUT_MS,
      };
      if (this.#netns !== undefined) opts.netns = this.#netns;
      this.#session = new CommandSession([IPSET_EXE, "-exist", "-"], opts);
    }
    return this.#session;
  }

  /** Re-create missing chains/jump rules for these rules' chains; true if anything was missing. */
  async #healChains(rules: readonly Rule[]): Promise<boolean> {
    let healed = false;
    for (const spec of new Set(rules.map((r) => this.#spec(r.chain)))) {
      const exists = await this.#ipt(["-t", spec.table, "-S", spec.toChain]);
      if (exists.code === 0 && (await this.#jumpExists(spec))) continue;
      this.#log.warn(
        `Chain ${spec.toChain} or its jump rule from ${spec.fromChain} was missing; re-creating it`,
      );
      await this.#ensureChain(spec);
      if (this.#sets && spec === this.#settings.chains.input)
        await this.#ensureSets(spec, this.#sets);
      healed = true;
    }
    return healed;
  }

  async #probeCheckSupport(input: ChainSpec): Promise<boolean> {
    const probe = ["-s", this.#family.probeSrc, "-p", "udp", "-j", input.target];
    await this.#ipt(["-t", input.table, "-I", input.fromChain, "1", ...probe]);
    const r = await this.#ipt(["-t", input.table, "-C", input.fromChain, ...probe]);
    await this.#ipt(["-t", input.table, "-D", input.fromChain, ...probe]);
    const supported = r.code === 0 && r.stdout.trim() === "";
    if (!supported) this.#log.debug(`${this.name} -C is not supported; using chain listings`);
    return supported;
  }

  async #ensureChain(spec: ChainSpec): Promise<void> {
    const created = await this.#ipt(["-t", spec.table, "-N", spec.toChain]);
    if (created.code !== 0 && !/already exists/i.test(created.stderr)) {
      throw this.#error("FWK_ERR_FW_INIT", this.#exe, created, `creating chain ${spec.toChain}`);
    }
    if (await this.#jumpExists(spec)) return;
    const jump = await this.#ipt([
      "-t",
      spec.table,
      "-I",
      spec.fromChain,
      String(spec.jumpPosition),
      "-j",
      spec.toChain,
    ]);
    if (jump.code !== 0) {
      throw this.#error(
        "FWK_ERR_FW_INIT",
        this.#exe,
        jump,
        `adding jump rule from ${spec.fromChain} to ${spec.toChain}`,
      );
    }
    // Upstream's line; the IPv6 side says which tool, the IPv4 side stays byte for byte.
    const tool = this.name === "iptables" ? "" : ` (${this.name})`;
    this.#log.info(
      `Added jump rule from chain: ${spec.fromChain} to chain: ${spec.toChain}${tool}`,
    );
  }

  async #jumpExists(spec: ChainSpec): Promise<boolean> {
    if (this.#checkSupport) {
      const r = await this.#ipt(["-t", spec.table, "-C", spec.fromChain, "-j", spec.toChain]);
      return r.code === 0;
    }
    const r = await this.#ipt(["-t", spec.table, "-L", spec.fromChain, "--line-numbers", "-n"]);
    return r.stdout.includes(` ${spec.toChain} `);
  }

  async #ensureSets(input: ChainSpec, sets: IpsetNames): Promise<void> {
    const created = await this.#cmd(
      [IPSET_EXE, "restore", "-exist"],
      `${createSetLines(sets).join("\n")}\n`,
    );
    if (created.code !== 0)
      throw this.#error("FWK_ERR_FW_INIT", IPSET_EXE, created, "creating sets");
    for (const match of setMatchArgs(sets, input.target)) {
      const exists = await this.#ipt(["-t", input.table, "-C", input.toChain, ...match]);
      if (exists.code === 0) continue;
      const r = await this.#ipt(["-t", input.table, "-I", input.toChain, "1", ...match]);
      if (r.code !== 0)
        throw this.#error("FWK_ERR_FW_INIT", this.#exe, r, `adding set match to ${input.toChain}`);
    }
  }

  async #checkComment(input: ChainSpec): Promise<void> {
    if (!(await commentMatchWorks((args) => this.#ipt(args), input, this.#family.probeSrc))) {
      throw new FwknopError(
        "FWK_ERR_FW_COMMENT_CHECK",
        `the iptables 'comment' match is not available (${this.#exe}); set ENABLE_IPT_COMMENT_CHECK N only if rules can still carry their _exp_ comment`,
      );
    }
    this.#log.debug(`${this.name} 'comment' match is available`);
  }

  #spec(kind: ChainKind): ChainSpec {
    return activeChain(this.#settings.chains, kind, "ENABLE_IPT_*");
  }

  #activeEntries(): [ChainKind, ChainSpec][] {
    return Object.entries(this.#settings.chains).filter(
      (e): e is [ChainKind, ChainSpec] => e[1] !== undefined,
    );
  }

  #activeSpecs(): ChainSpec[] {
    return this.#activeEntries().map(([, spec]) => spec);
  }

  #ipt(args: readonly string[]): Promise<RunResult> {
    return this.#cmd([this.#exe, ...args]);
  }

  #cmd(argv: readonly string[], input?: string): Promise<RunResult> {
    const opts: { netns?: string; input?: string } = {};
    if (this.#netns !== undefined) opts.netns = this.#netns;
    if (input !== undefined) opts.input = input;
    // 2.6.10's debug lines for every firewall command (run_extcmd at -v -v).
    this.#log.debug(`run_extcmd() (with execvpe()): running CMD: ${argv.join(" ")}`);
    return run(argv, opts).then((r) => {
      this.#log.debug(`run_extcmd(): returning 0, pid_status: ${r.code}`);
      return r;
    });
  }

  #error(code: ToolErrorCode, tool: string, r: RunResult, what: string): FwknopError {
    return toolError(code, tool, r, what);
  }
}
