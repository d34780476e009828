/**
 * A long-lived command interpreter fed over stdin (e.g. `ipset -exist -`), for tools whose start-up
 * costs more than the work: one spawn instead of one per batch. Like run(): no shell, argv only,
 * every request has a timeout.
 *
 * Such tools do not confirm each command, and their stdout is block-buffered when it is a pipe, so
 * each request ends with an "ack" command whose answer the tool writes to stderr (unbuffered);
 * everything else on stderr before that answer is the request's error text.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { FwknopError } from "../errors.js";

/** A tool that does not exit within this time after its stdin closes is killed. */
const CLOSE_TIMEOUT_MS = 5000;

export interface SessionOptions {
  /** A command the tool answers on stderr without changing anything. */
  ackCommand: string;
  /** Text that appears in the tool's answer to ackCommand (and in nothing else it prints). */
  ackMarker: string;
  /**
   * Lines of that answer before and after the line holding ackMarker (default 0 and 0): nft, for
   * one, answers a deliberate syntax error in three lines, its message, the line, then carets.
   * The request is answered as soon as the marker's line is complete; the lines after it are
   * dropped when they come (the tool writes them in separate system calls, and waiting for them
   * cost a wake-up of the event loop, ≈ 0.1 ms per request with nft).
   */
  ackLinesBefore?: number;
  ackLinesAfter?: number;
  /** Run inside this network namespace (`ip netns exec NAME ...`). */
  netns?: string;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string>;
  /** Kill the tool if a request is not acknowledged in time (default 30 s). */
  timeoutMs?: number;
}

export class CommandSession {
  readonly #argv: readonly string[];
  readonly #opts: SessionOptions;
  #child: ChildProcess | undefined;
  #stderr = "";
  /** Lines still owed by the last ack's answer (ackLinesAfter), dropped when they arrive. */
  #skipLines = 0;
  /** Resolver of the request waiting for its ack (one at a time; requests are chained). */
  #waiting: { resolve: (errors: string) => void; reject: (e: Error) => void } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(argv: readonly string[], opts: SessionOptions) {
    this.#argv = argv;
    this.#opts = opts;
  }

  /** Feed `script` (newline-separated commands); resolves with the error text it produced ("" = none). */
  request(script: string): Promise<string> {
    const next = this.#queue.then(() => this.#send(script));
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Close stdin and wait for the tool to exit. */
  async close(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      // Also keeps the event loop alive while we wait: the child and its pipes are unref'd.
      const timer = setTimeout(() => child.kill("SIGKILL"), CLOSE_TIMEOUT_MS);
      child.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }

  #send(script: string): Promise<string> {
    const child = this.#start();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new FwknopError(
            "FWK_ERR_CMD_TIMEOUT",
            `"${this.#argv.join(" ")}" did not answer within ${this.#opts.timeoutMs ?? 30_000} ms`,
          ),
        );
        child.kill("SIGKILL");
      }, this.#opts.timeoutMs ?? 30_000);
      this.#waiting = {
        resolve: (errors) => {
          clearTimeout(timer);
          resolve(errors);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const body = script.endsWith("\n") || script === "" ? script : `${script}\n`;
      child.stdin?.write(`${body}${this.#opts.ackCommand}\n`);
    });
  }

  #start(): ChildProcess {
    if (this.#child && this.#child.exitCode === null && !this.#child.killed) return this.#child;
    const full = this.#opts.netns
      ? ["ip", "netns", "exec", this.#opts.netns, ...this.#argv]
      : [...this.#argv];
    const [cmd, ...args] = full;
    if (!cmd) throw new FwknopError("FWK_ERR_CMD_SPAWN", "empty command");
    const env = this.#opts.env ? { ...process.env, ...this.#opts.env } : process.env;
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
    this.#stderr = "";
    this.#skipLines = 0;
    // Prompts and other stdout chatter must be drained or the tool blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => this.#onStderr(d));
    child.stdin?.on("error", () => {});
    // An idle session must not keep the process alive; a pending request's timer does that.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    child.on("error", (e) =>
      this.#fail(
        new FwknopError("FWK_ERR_CMD_SPAWN", `cannot run "${cmd}": ${e.message}`, { cause: e }),
      ),
    );
    child.on("close", (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      const detail = this.#stderr.trim().split("\n")[0] ?? "";
      this.#fail(
        new FwknopError(
          "FWK_ERR_CMD_FAILED",
          `"${this.#argv.join(" ")}" exited with status ${code ?? signal}: ${detail}`,
        ),
      );
    });
    this.#child = child;
    return child;
  }

  #onStderr(data: string): void {
    this.#stderr += data;
    for (; this.#skipLines > 0; this.#skipLines--) {
      const eol = this.#stderr.indexOf("\n");
      if (eol < 0) return;
      this.#stderr = this.#stderr.slice(eol + 1);
    }
    const at = this.#stderr.indexOf(this.#opts.ackMarker);
    if (at < 0) return;
    const end = this.#stderr.indexOf("\n", at);
    if (end < 0) return;
    let start = this.#stderr.lastIndexOf("\n", at);
    for (let n = this.#opts.ackLinesBefore ?? 0; n > 0 && start >= 0; n--) {
      start = start === 0 ? -1 : this.#stderr.lastIndexOf("\n", start - 1);
    }
    const errors = this.#stderr.slice(0, start + 1).trim();
    const rest = this.#stderr.slice(end + 1);
    this.#stderr = "";
    this.#skipLines = this.#opts.ackLinesAfter ?? 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(errors);
    // The owed lines may have come in the same read; nothing else can (one request at a time).
    if (rest !== "") this.#onStderr(rest);
  }

  #fail(e: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(e);
  }
}
