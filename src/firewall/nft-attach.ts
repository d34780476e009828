/**
 * NFT_ATTACH (ours, opt-in; `NFT_ATTACH inet, filter, input`): the one line a default-drop nftables
 * host otherwise needs by hand — `meta mark & <NFT_MARK> == <NFT_MARK> accept` — inserted by us at
 * the top of the admin's base chain, tagged with a comment so we find it again. The admin's
 * ruleset may be reloaded at any time (`nft -f /etc/nftables.conf` starts with `flush ruleset`),
 * which takes the line away; `nft monitor` tells us when their table changes, and the line is put
 * back at once (a check is one `nft -j list chain`). Removed by flush (FLUSH_NFT_AT_EXIT Y,
 * --fw-flush). Everything else about their table stays theirs.
 */
import { createInterface } from "node:readline";
import type { Logger } from "../log/logger.js";
import { type LongLivedChild, startChild } from "../sys/child.js";
import { type RunResult, run } from "../sys/run.js";

export interface NftAttachTarget {
  family: string;
  table: string;
  chain: string;
}

/** The comment that marks our line in the admin's chain. */
export const ATTACH_TAG = "fwknop NFT_ATTACH";
/** Events arriving within this time are answered by one check. */
const DEBOUNCE_MS = 50;
/** A monitor that ended on its own is restarted after this delay. */
const RESTART_MS = 1000;

export class NftAttach {
  readonly #exe: string;
  readonly #target: NftAttachTarget;
  readonly #mark: number;
  readonly #log: Logger;
  readonly #netns: string | undefined;
  #watch: LongLivedChild | undefined;
  #pending: NodeJS.Timeout | undefined;
  #checking: Promise<unknown> = Promise.resolve();
  #running = false;

  constructor(exe: string, target: NftAttachTarget, mark: number, log: Logger, netns?: string) {
    this.#exe = exe;
    this.#target = target;
    this.#mark = mark;
    this.#log = log;
    this.#netns = netns;
  }

  get #where(): string {
    const t = this.#target;
    return `${t.family} ${t.table} ${t.chain}`;
  }

  /** Insert our line at the top of the chain unless it is there; true if it was inserted. */
  async ensure(): Promise<boolean> {
    const handles = await this.#ourHandles();
    if (handles === undefined) {
      this.#log.warn(`NFT_ATTACH: chain ${this.#where} does not exist (yet); waiting for it`);
      return false;
    }
    if (handles.length > 0) return false;
    const hex = `0x${this.#mark.toString(16)}`;
    const t = this.#target;
    const r = await this.#nft([
      "insert",
      "rule",
      t.family,
      t.table,
      t.chain,
      ...["meta", "mark", "and", hex, "==", hex, "accept", "comment", `"${ATTACH_TAG}"`],
    ]);
    if (r.code !== 0) {
      this.#log.error(
        `NFT_ATTACH: cannot insert the mark-accept rule into ${this.#where}: ${r.stderr.trim()}`,
      );
      return false;
    }
    this.#log.info(
      `NFT_ATTACH: inserted 'meta mark & ${hex} == ${hex} accept' at the top of ${this.#where}`,
    );
    return true;
  }

  /** Follow changes of the admin's table and put our line back whenever it goes. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startWatch();
  }

  stop(): void {
    this.#running = false;
    this.#watch?.kill();
    this.#watch = undefined;
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  /** Delete every tagged line of ours from the chain (a missing chain holds none). */
  async remove(): Promise<void> {
    this.stop();
    await this.#checking;
    const t = this.#target;
    for (const handle of (await this.#ourHandles()) ?? []) {
      await this.#nft(["delete", "rule", t.family, t.table, t.chain, "handle", String(handle)]);
    }
  }

  #startWatch(): void {
    const t = this.#target;
    const mine = new RegExp(`^(add|delete) (table|chain|rule) ${t.family} ${t.table}\\b`);
    const argv = [this.#exe, "monitor"];
    const watch = startChild(this.#netns ? ["ip", "netns", "exec", this.#netns, ...argv] : argv, {
      pipes: { stdout: true },
      unref: true,
    });
    this.#watch = watch;
    killAtExit(watch);
    if (watch.stdout) {
      createInterface({ input: watch.stdout }).on("line", (line) => {
        if (mine.test(line)) this.#schedule();
      });
    }
    void watch.exited.then(() => {
      // A monitor that ended on its own (not through stop()) is started again.
      if (!this.#running || this.#watch !== watch) return;
      setTimeout(
        () => this.#running && this.#watch === watch && this.#startWatch(),
        RESTART_MS,
      ).unref();
    });
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#checking = this.#checking.then(() =>
        this.ensure().catch((e: unknown) =>
          this.#log.error(`NFT_ATTACH check failed: ${(e as Error).message}`),
        ),
      );
    }, DEBOUNCE_MS);
    this.#pending.unref();
  }

  /** Handles of our tagged rules in the chain; undefined when the chain does not exist. */
  async #ourHandles(): Promise<number[] | undefined> {
    const t = this.#target;
    const r = await this.#nft(["-j", "list", "chain", t.family, t.table, t.chain]);
    if (r.code !== 0) return undefined;
    const parsed = JSON.parse(r.stdout) as {
      nftables?: { rule?: { handle: number; comment?: string } }[];
    };
    return (parsed.nftables ?? []).flatMap((o) =>
      o.rule?.comment === ATTACH_TAG ? [o.rule.handle] : [],
    );
  }

  #nft(args: readonly string[]): Promise<RunResult> {
    return run([this.#exe, ...args], this.#netns !== undefined ? { netns: this.#netns } : {});
  }
}

/** `NFT_ATTACH family, table, chain` → its parts; undefined when the text is malformed. */
export function parseAttach(text: string): NftAttachTarget | undefined {
  const parts = text.split(",").map((p) => p.trim());
  const name = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
  const [family, table, chain] = parts;
  if (parts.length !== 3 || !family || !table || !chain) return undefined;
  if (!["ip", "ip6", "inet"].includes(family) || !name.test(table) || !name.test(chain))
    return undefined;
  return { family, table, chain };
}

const monitors = new Set<LongLivedChild>();
let exitHook = false;

/** `nft monitor` must not outlive us (an unref'd child would, until its next event). */
function killAtExit(child: LongLivedChild): void {
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const c of monitors) c.kill();
    });
  }
  monitors.add(child);
  void child.exited.then(() => monitors.delete(child));
}
