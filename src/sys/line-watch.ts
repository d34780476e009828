/**
 * A long-lived child whose stdout is read line by line (e.g. `nft monitor`): for tools that
 * report events as they happen. Like run(): no shell, argv only. The child is killed by stop()
 * and, at the latest, when this process exits; it never keeps the event loop alive.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface LineWatchOptions {
  /** Run inside this network namespace (`ip netns exec NAME ...`). */
  netns?: string;
  onLine(line: string): void;
  /** The child ended on its own (not through stop()). */
  onExit?(code: number | null): void;
}

export interface LineWatch {
  stop(): void;
}

const live = new Set<ChildProcess>();
let exitHook = false;

export function watchLines(argv: readonly string[], opts: LineWatchOptions): LineWatch {
  const full = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : [...argv];
  const child = spawn(full[0] as string, full.slice(1), { stdio: ["ignore", "pipe", "ignore"] });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGTERM");
    });
  }
  let stopped = false;
  let rest = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) opts.onLine(line);
  });
  child.on("error", () => {});
  child.on("exit", (code) => {
    live.delete(child);
    if (!stopped) opts.onExit?.(code);
  });
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    stop() {
      stopped = true;
      live.delete(child);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    },
  };
}
