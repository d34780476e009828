/**
 * The only place that starts external programs. No shell, argv arrays only, always a timeout.
 */
import { spawn } from "node:child_process";
import { FwknopError } from "../errors.js";

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Kill the child after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Extra environment variables (merged over process.env, or over nothing with cleanEnv). */
  env?: Record<string, string>;
  /**
   * Start from an empty environment instead of ours: for commands run on a client's behalf
   * (SPA commands, command cycles), which must not see the daemon's secrets. fwknopd 2.6.10
   * execs them with an empty environment too. The program is still found on the default PATH.
   */
  cleanEnv?: boolean;
  /** Run the command inside this network namespace (`ip netns exec NAME ...`). */
  netns?: string;
  /** Extra file descriptors (index 3, 4, ... of the child's stdio) fed with these buffers. */
  extraInputs?: (string | Buffer)[];
  /** Run as this user/group id (SPA command execution as CMD_EXEC_USER). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command and collect its output; resolves for any exit status (check `code`). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : [...argv];
  const [cmd, ...args] = full;
  if (!cmd) throw new FwknopError("FWK_ERR_CMD_SPAWN", "empty command");
  const extra = opts.extraInputs ?? [];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe", ...extra.map(() => "pipe" as const)],
      env: { ...(opts.cleanEnv ? {} : process.env), ...opts.env },
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new FwknopError(
          "FWK_ERR_CMD_TIMEOUT",
          `"${full.join(" ")}" did not finish within ${opts.timeoutMs ?? 30000} ms`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new FwknopError("FWK_ERR_CMD_SPAWN", `cannot run "${cmd}": ${e.message}`, { cause: e }),
      );
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    // A child that exits early closes its pipes; writing then must not crash us.
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.input ?? "");
    extra.forEach((data, i) => {
      const stream = child.stdio[3 + i];
      if (stream && "end" in stream) {
        stream.on("error", () => {});
        stream.end(data);
      }
    });
  });
}

/** Like run(), but a non-zero exit is an error naming the command and its stderr. */
export async function runChecked(
  argv: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new FwknopError(
      "FWK_ERR_CMD_FAILED",
      `"${argv.join(" ")}" exited with status ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  return r;
}
