/**
 * Background mode without fork(2) (Node cannot fork a running V8): the parent re-runs itself
 * detached (new session, stdio on /dev/null) with the internal `--__daemon-child` flag and
 * waits on a pipe (the child's fd 3) for the child's verdict: "ok" once it is ready (PID file
 * written, socket bound), or "err <message>". The parent then exits 0, or 1 after printing
 * the child's error, which is what an operator or init script sees from the C daemon too.
 */
import { closeSync, writeSync } from "node:fs";
import { FwknopError } from "../errors.js";
import { startChild } from "../sys/child.js";
import { DAEMON_CHILD_FLAG } from "./options.js";

const CHANNEL_FD = 3;

/** The child's line back to its waiting parent. */
export interface DaemonReady {
  /** Start-up succeeded; the parent exits 0. */
  signal(): void;
  /** Start-up failed; the parent prints `message` and exits 1. */
  fail(message: string): void;
}

export type DaemonRole =
  | { role: "parent"; exitCode: number }
  | { role: "child"; ready: DaemonReady };

export interface SpawnDaemonOptions {
  /** Script and arguments of the child; default: ours plus the child flag. */
  argv?: readonly string[];
  /** How long the child may take to report ready before it is killed (default 30 s). */
  timeoutMs?: number;
}

/**
 * In the parent (isChild false) this starts the child, waits, reports a failure on stderr and
 * returns the exit code; in the child it returns the channel to report through.
 */
export async function becomeDaemon(
  isChild: boolean,
  opts: SpawnDaemonOptions = {},
): Promise<DaemonRole> {
  if (isChild) return { role: "child", ready: openReadyChannel() };
  try {
    await spawnDaemon(opts);
    return { role: "parent", exitCode: 0 };
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return { role: "parent", exitCode: 1 };
  }
}

/** Parent side: starts the detached copy and resolves with its PID once it reports ready. */
export function spawnDaemon(opts: SpawnDaemonOptions = {}): Promise<{ pid: number }> {
  const argv = opts.argv ?? [...process.argv.slice(1), DAEMON_CHILD_FLAG];
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // The ready channel is the child's fd 3 (CHANNEL_FD).
  const child = startChild([process.execPath, ...process.execArgv, ...argv], {
    detached: true,
    channel: true,
  });
  const channel = child.channel;
  return new Promise((resolve, reject) => {
    let said = "";
    let settled = false;
    const finish = (err: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel?.destroy();
      child.unref();
      if (err === undefined && child.pid !== undefined) resolve({ pid: child.pid });
      else reject(new FwknopError("FWK_ERR_DAEMON_START", err ?? "fwknopd did not start"));
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(`fwknopd did not report ready within ${timeoutMs} ms; stopped it`);
    }, timeoutMs);
    channel?.on("data", (d: Buffer) => {
      said += d.toString();
      const nl = said.indexOf("\n");
      if (nl === -1) return;
      const line = said.slice(0, nl);
      finish(line === "ok" ? undefined : line.replace(/^err /, ""));
    });
    channel?.on("error", () => {});
    void child.exited.then(({ code, signal, error }) => {
      if (error) return finish(`cannot start the background fwknopd: ${error.message}`);
      const how = signal ? `signal ${signal}` : `status ${code}`;
      finish(`fwknopd exited with ${how} before it was ready`);
    });
  });
}

/**
 * Child side: the pipe to the waiting parent (fd 3), spoken on once. Until then, what the
 * child writes to stderr (which is /dev/null here) is also kept, so that if it exits without
 * reporting (a start-up error printed the usual way) the parent can show that text.
 */
export function openReadyChannel(): DaemonReady {
  let open = true;
  let stderrTail = "";
  const stderr = process.stderr;
  const realWrite = stderr.write;
  stderr.write = function (this: typeof stderr, chunk: unknown, ...rest: unknown[]) {
    stderrTail = (stderrTail + String(chunk)).slice(-2000);
    return Reflect.apply(realWrite, this, [chunk, ...rest]) as boolean;
  } as typeof stderr.write;
  const say = (text: string) => {
    if (!open) return;
    open = false;
    stderr.write = realWrite;
    try {
      writeSync(CHANNEL_FD, text);
      closeSync(CHANNEL_FD);
    } catch {
      // The parent gave up (timeout) or was killed: nobody is listening any more.
    }
  };
  process.once("exit", (code) => {
    const said = stderrTail.trim().split("\n").slice(-3).join(" ");
    say(`err ${said || `fwknopd exited with status ${code} before it was ready`}\n`);
  });
  return {
    signal: () => say("ok\n"),
    fail: (message) => say(`err ${message.replace(/\n/g, " ")}\n`),
  };
}
