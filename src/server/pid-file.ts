/**
 * The PID file (spec §12.2): guards against a second daemon and tells -K/-S/-R whom to signal.
 *
 * Upstream holds an fcntl lock on the file for its lifetime; Node has no fcntl, so liveness is
 * judged from the content instead: the PID must exist and /proc/<pid>/cmdline must mention
 * fwknopd (ours runs as `node .../fwknopd.js`, the C one as `fwknopd`). Anything else (dead
 * process, zombie, a recycled PID, garbage) is stale and replaced.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { FwknopError } from "../errors.js";

/** Upstream accepts PIDs up to this value when reading the file (pid_max on 64-bit Linux is 2^22). */
const MAX_PID = 8388608;

export interface PidFileLock {
  readonly path: string;
  readonly pid: number;
}

/**
 * Writes our PID to `path` unless a live fwknopd already owns it. Creation is exclusive
 * (O_EXCL), so of two daemons starting together only one wins; a stale file is removed first.
 * Synchronous: it runs once at start-up, before anything else could be waiting.
 */
export function acquirePidFile(path: string, pid = process.pid): PidFileLock {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, `${pid}\n`);
      } finally {
        closeSync(fd);
      }
      return { path, pid };
    } catch (e) {
      if (errno(e) !== "EEXIST") throw pidFileError(path, e);
    }
    const other = readPid(path);
    if (other !== undefined && other !== pid && isFwknopdProcess(other)) {
      throw new FwknopError(
        "FWK_ERR_PID_RUNNING",
        `[*] An instance of fwknopd is already running: (PID=${other}).`,
      );
    }
    try {
      unlinkSync(path);
    } catch (e) {
      if (errno(e) !== "ENOENT") throw pidFileError(path, e);
    }
  }
  throw new FwknopError(
    "FWK_ERR_PID_FILE",
    `Could not take PID file ${path}: it keeps reappearing`,
  );
}

/** The PID of the fwknopd named in `path` if it is running (for -K, -S, -R), else undefined. */
export function readRunningPid(path: string): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && isFwknopdProcess(pid) ? pid : undefined;
}

/**
 * Removes the PID file at exit, unless it no longer names us (a newer daemon took over).
 * Given a path, "us" is this process.
 */
export function releasePidFile(lock: PidFileLock | string): void {
  const { path, pid } = typeof lock === "string" ? { path: lock, pid: process.pid } : lock;
  if (readPid(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch (e) {
    if (errno(e) !== "ENOENT") throw pidFileError(path, e);
  }
}

/** Alive (signal 0 succeeds or is refused for permissions) and its command line says fwknopd. */
export function isFwknopdProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errno(e) !== "EPERM") return false;
  }
  try {
    // A zombie has an empty cmdline: it no longer counts as running.
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("fwknopd");
  } catch {
    return false;
  }
}

/** The PID in the file: leading decimal digits of the first line, 1..8388608; else undefined. */
function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (e) {
    if (errno(e) === "ENOENT") return undefined;
    throw pidFileError(path, e);
  }
  const m = /^\s*(\d{1,8})/.exec(text);
  const pid = m ? Number(m[1]) : 0;
  return pid >= 1 && pid <= MAX_PID ? pid : undefined;
}

function pidFileError(path: string, e: unknown): FwknopError {
  const msg = e instanceof Error ? e.message : String(e);
  return new FwknopError("FWK_ERR_PID_FILE", `Error trying to open PID file: ${path}: ${msg}`, {
    cause: e,
  });
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
