/**
 * The pf backend (FIREWALL_TYPE pf, spec §11.3), as fwknopd 2.6.10 drives pfctl: our rules live in
 * the anchor PF_ANCHOR_NAME, which the admin links into pf.conf (`anchor "fwknop"`); init checks
 * the link and flushes the anchor; a change lists the anchor, edits the text and loads it back
 * whole with `pfctl -a <anchor> -f -` (pf replaces an anchor's ruleset atomically). Unlike
 * upstream, all changes of one ledger batch go in one load. Untested on a real BSD: the tests
 * drive a recording stand-in for pfctl (scripts/pfctl-standin.ts).
 */
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import type { BackendOptions, ChainKind, FirewallBackend, Rule } from "./backend.js";
import {
  DEFAULT_PF_SETTINGS,
  type PfBackendSettings,
  type PfSettings,
  parsePfLine,
  pfRuleLine,
} from "./pf-rules.js";
import { ruleKey } from "./rules.js";
import { type ToolErrorCode, toolError } from "./tool-error.js";

export const PF_LIST_HEADING = "Listing rules in fwknopd pf anchor...";
export const PF_LIST_ALL_HEADING = "Listing all pf rules...";

export class PfBackend implements FirewallBackend {
  readonly name = "pf";
  readonly #exe: string;
  readonly #pf: PfSettings;
  readonly #log: Logger;
  readonly #netns: string | undefined;

  constructor(settings: PfBackendSettings, opts: BackendOptions) {
    if (!settings.exe) {
      throw new FwknopError("FWK_ERR_FW_NO_EXE", "No firewall command executable is set");
    }
    this.#exe = settings.exe;
    this.#pf = settings.pf ?? DEFAULT_PF_SETTINGS;
    this.#log = opts.log;
    this.#netns = opts.netns;
  }

  chainName(_kind: ChainKind): string {
    return this.#pf.anchor;
  }

  async init(opts: { flush: boolean }): Promise<void> {
    // Upstream: the anchor must appear as a line of its own in `pfctl -s Anchor`.
    const r = await this.#pfctl(["-s", "Anchor"]);
    const linked = `${r.stdout}\n${r.stderr}`.split("\n").some((l) => l.trim() === this.#pf.anchor);
    if (!linked) {
      throw new FwknopError(
        "FWK_ERR_FW_PF_ANCHOR",
        `the pf anchor '${this.#pf.anchor}' is not linked into the main ruleset (add 'anchor "${this.#pf.anchor}"' to pf.conf): ${this.#exe} -s Anchor exited with status ${r.code}`,
      );
    }
    if (opts.flush) await this.flush();
    this.#log.debug(`pf anchor ${this.#pf.anchor} is linked`);
  }

  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const lines = await this.#anchorLines("FWK_ERR_FW_APPLY");
    const gone = new Set(remove.map((r) => `${ruleKey(r)}@${r.expiresAt}`));
    const kept = lines.filter((line) => {
      const rule = parsePfLine(line);
      return !rule || !gone.has(`${ruleKey(rule)}@${rule.expiresAt}`);
    });
    const text = [...kept, ...add.map(pfRuleLine)].join("\n");
    const r = await this.#pfctl(["-a", this.#pf.anchor, "-f", "-"], `${text}\n`);
    if (r.code !== 0) {
      throw this.#error(
        "FWK_ERR_FW_APPLY",
        r,
        `loading anchor ${this.#pf.anchor} with ${add.length} addition(s) and ${remove.length} removal(s)`,
      );
    }
  }

  async listInstalled(): Promise<Rule[]> {
    const lines = await this.#anchorLines("FWK_ERR_FW_LIST");
    return lines.flatMap((line) => parsePfLine(line) ?? []);
  }

  async flush(): Promise<void> {
    const r = await this.#pfctl(["-a", this.#pf.anchor, "-F", "all"]);
    if (r.code !== 0)
      throw this.#error("FWK_ERR_FW_APPLY", r, `flushing anchor ${this.#pf.anchor}`);
  }

  async listText(all: boolean): Promise<string> {
    const argv = all ? ["-s", "rules"] : ["-a", this.#pf.anchor, "-s", "rules"];
    const r = await this.#pfctl(argv);
    return `${all ? PF_LIST_ALL_HEADING : PF_LIST_HEADING}\n\n${r.stdout}`;
  }

  async #anchorLines(code: "FWK_ERR_FW_APPLY" | "FWK_ERR_FW_LIST"): Promise<string[]> {
    const r = await this.#pfctl(["-a", this.#pf.anchor, "-s", "rules"]);
    if (r.code !== 0) throw this.#error(code, r, `listing anchor ${this.#pf.anchor}`);
    return r.stdout.split("\n").filter((l) => l.trim() !== "");
  }

  #pfctl(args: readonly string[], input?: string): Promise<RunResult> {
    const opts: { netns?: string; input?: string } = {};
    if (this.#netns !== undefined) opts.netns = this.#netns;
    if (input !== undefined) opts.input = input;
    return run([this.#exe, ...args], opts);
  }

  #error(code: ToolErrorCode, r: RunResult, what: string): FwknopError {
    return toolError(code, this.#exe, r, what);
  }
}
