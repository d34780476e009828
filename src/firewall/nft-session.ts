/**
 * How the nftables backend runs its transactions: one long-lived `nft -j -i` fed a batch per line,
 * instead of one `nft` process per batch. Starting nft (plus `ip netns exec` in tests and the
 * benchmark) costs several milliseconds, far more than adding one set element, and it was most of
 * the backend's knock-to-open time; an interactive nft keeps its netlink socket and answers a
 * one-element batch in well under a millisecond, whatever the size of the sets.
 *
 * Each line is parsed and committed on its own, so a batch (one line: a JSON document, or native
 * commands separated by `;`, which `nft -j` reads too) stays one atomic transaction. nft confirms
 * nothing on success, so each batch is followed by an ack line nft always refuses as a syntax
 * error (changing nothing); its three-line answer on stderr (message, the line, carets) ends the
 * batch, and whatever nft printed on stderr before it is the batch's error.
 *
 * If the interpreter cannot be started, dies, or does not answer in time, that batch runs the old
 * way, `nft -j -f <file>`, and the next batch starts a fresh interpreter; if the first interpreter
 * never answered at all (an nft built without its interactive mode), every batch runs that way.
 */
import { unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { type RunResult, run } from "../sys/run.js";
import { CommandSession } from "../sys/session.js";

/** Not an nft keyword, so always a syntax error; nft echoes the line, marker included. */
const ACK_LINE = "fwknopd-nft-ack";
/** A batch the interpreter has not answered within this time runs again as a one-shot nft. */
const SESSION_TIMEOUT_MS = 10_000;
/**
 * nft's line editor keeps every line in its history for as long as it runs, so the interpreter is
 * replaced after this many bytes of batches (one spawn per several thousand grants).
 */
const RECYCLE_BYTES = 8 * 1024 * 1024;

/** Numbers the transaction files of this process. */
let transactions = 0;

export class NftTransactions {
  readonly #exe: string;
  readonly #netns: string | undefined;
  readonly #log: Logger;
  #session: CommandSession | undefined;
  #sent = 0;
  /** Whether an interpreter ever answered a batch; if the first one never did, none is used. */
  #answered = false;
  #oneShotOnly = false;

  constructor(exe: string, log: Logger, netns: string | undefined) {
    this.#exe = exe;
    this.#log = log;
    this.#netns = netns;
  }

  /** One batch (a `{"nftables": [...]}` document or native commands, on one line) as one transaction. */
  async apply(script: string): Promise<RunResult> {
    if (this.#oneShotOnly) return this.#oneShot(script);
    if (this.#sent >= RECYCLE_BYTES) await this.close();
    this.#sent += script.length;
    try {
      const errors = await this.#interpreter().request(script);
      this.#answered = true;
      return { code: errors === "" ? 0 : 1, signal: null, stdout: "", stderr: errors };
    } catch (e) {
      this.#oneShotOnly = !this.#answered;
      const from = this.#oneShotOnly ? "from now on" : "for this batch";
      this.#log.warn(`nft interpreter failed (${(e as Error).message}); one nft per batch ${from}`);
      await this.close();
      return this.#oneShot(script);
    }
  }

  /** End the interpreter (it exits when its stdin closes); the next batch starts a new one. */
  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    this.#sent = 0;
    await s?.close();
  }

  #interpreter(): CommandSession {
    if (!this.#session) {
      this.#session = new CommandSession([this.#exe, "-j", "-i"], {
        ackCommand: ACK_LINE,
        ackMarker: ACK_LINE,
        ackLinesBefore: 1,
        ackLinesAfter: 1,
        timeoutMs: SESSION_TIMEOUT_MS,
        // nft reads and writes its line history in $HOME/.nft.history; ours must go nowhere.
        env: { HOME: "/dev/null" },
        ...(this.#netns !== undefined ? { netns: this.#netns } : {}),
      });
    }
    return this.#session;
  }

  /**
   * nft opens `-f -` as the path /dev/stdin, which fails on the socket Node gives a child as
   * stdin, and one argument is limited to 128 KiB; so the batch goes through a private file.
   */
  async #oneShot(script: string): Promise<RunResult> {
    const file = join(tmpdir(), `fwknop-nft-${process.pid}-${++transactions}.nft`);
    // wx: never follow or reuse a file someone else placed there.
    await writeFile(file, script, { flag: "wx", mode: 0o600 });
    try {
      return await run(
        [this.#exe, "-j", "-f", file],
        this.#netns !== undefined ? { netns: this.#netns } : {},
      );
    } finally {
      await unlink(file).catch(() => {});
    }
  }
}
