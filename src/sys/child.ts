/**
 * Long-lived child processes (tcpdump for pcap capture, logger(1) for syslog, the detached
 * background fwknopd): argv only (no shell), chosen pipes, one exit promise, and a stop that
 * asks first and kills after a grace period. One-shot commands use run.ts; stdin-fed
 * interpreters session.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (e.g. ENOENT) or failed as a process. */
  error?: Error;
}

export interface ChildOptions {
  /** Which standard streams are pipes; the others are /dev/null. */
  pipes?: { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** An extra pipe at fd 3 (a private channel to the child). */
  channel?: boolean;
  /** A new session, so the child outlives us (background daemon). */
  detached?: boolean;
  /** The child and its pipes do not keep our event loop alive. */
  unref?: boolean;
}

export interface StopOptions {
  /** How to ask: a signal, or closing the child's stdin (tools that exit at end of input). */
  ask?: NodeJS.Signals | "end-stdin";
  /** Milliseconds before SIGKILL (default 2000). */
  graceMs?: number;
}

export interface LongLivedChild {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** fd 3 when `channel` was asked for. */
  readonly channel: Readable | null;
  /** Resolves once the process has exited and its pipes are closed (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** True until the process exited (or failed to start). */
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): void;
  /** Ask the child to stop, kill it after the grace period; resolves when it is gone. */
  stop(opts?: StopOptions): Promise<ChildExit>;
  /** Stop keeping our event loop alive for it (a detached child left running). */
  unref(): void;
}

const pipeOr = (on: boolean | undefined) => (on ? "pipe" : "ignore");

export function startChild(argv: readonly string[], opts: ChildOptions = {}): LongLivedChild {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new TypeError("startChild: empty argv");
  const p = opts.pipes ?? {};
  const stdio = [pipeOr(p.stdin), pipeOr(p.stdout), pipeOr(p.stderr)];
  if (opts.channel) stdio.push("pipe");
  const child: ChildProcess = spawn(cmd, args, {
    stdio: stdio as ("pipe" | "ignore")[],
    ...(opts.detached ? { detached: true } : {}),
  });
  let running = true;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("error", (error) => {
      // A process that never started emits no close event.
      if (child.pid === undefined) {
        running = false;
        resolve({ code: null, signal: null, error });
      }
    });
    child.once("close", (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  // Write errors (EPIPE after the child died) surface through `exited`, not as crashes.
  child.stdin?.on("error", () => {});
  // A refused signal is an 'error' event too: EPERM once the child switched to another user (as
  // tcpdump does after opening the interface) and we lack CAP_KILL (a sandboxed unit). stop()
  // handles it; it must not crash us.
  let killRefused = false;
  child.on("error", (e: NodeJS.ErrnoException) => {
    if (e.syscall === "kill" && e.code === "EPERM") killRefused = true;
  });
  const unrefPipes = () => {
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr, child.stdio[3]]) {
      (s as { unref?: () => void } | null | undefined)?.unref?.();
    }
  };
  if (opts.unref) unrefPipes();
  const channel = (child.stdio[3] as Readable | null | undefined) ?? null;
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    channel,
    exited,
    get running() {
      return running;
    },
    kill: (signal = "SIGTERM") => {
      if (running) child.kill(signal);
    },
    async stop(s: StopOptions = {}) {
      if (!running) return exited;
      let abandon: (e: ChildExit) => void = () => {};
      const abandoned = new Promise<ChildExit>((resolve) => {
        abandon = resolve;
      });
      // When the signal is refused, waiting would never end: close our ends of its pipes
      // instead, so the child ends at its next write, and stop waiting.
      const signal = (sig: NodeJS.Signals) => {
        if (child.kill(sig) || !killRefused) return;
        for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
        abandon({ code: null, signal: null, error: new Error(`${sig} refused (EPERM)`) });
      };
      // The timer also keeps the loop alive while we wait for an unref'd child.
      const timer = setTimeout(() => signal("SIGKILL"), s.graceMs ?? 2000);
      const ask = s.ask ?? "SIGTERM";
      if (ask === "end-stdin") child.stdin?.end();
      else signal(ask);
      const exit = await Promise.race([exited, abandoned]);
      clearTimeout(timer);
      return exit;
    },
    unref: unrefPipes,
  };
}
