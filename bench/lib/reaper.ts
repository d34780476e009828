/**
 * Every long-lived child the bench starts (daemons, prober, hidden service) is registered here
 * and killed when the bench exits for any reason, including Ctrl-C, so no daemon outlives its
 * namespace. Namespaces themselves are removed by the netns helper's exit hook.
 */
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  // Turning the signal into a normal exit runs the exit hooks above and in netns.ts.
  process.once(sig, () => process.exit(130));
}
