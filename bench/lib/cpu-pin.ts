/**
 * CPU placement for the latency scenario's diagnostic pass: the prober alone on one core, the
 * server side (daemon, its firewall tool, the hidden service) and this harness on another, as if
 * the client ran on a machine of its own. Everything else in the benchmark leaves placement to
 * the scheduler.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { run } from "../../src/sys/run.js";

/**
 * The machine's cores. Not availableParallelism(): that is this process's affinity, which the
 * pass itself narrows to one core, and restoring to it would leave every later scenario there.
 */
const machineCores = () => cpus().length;

/** The cores used: the prober's, and the server side's. Undefined with fewer than two. */
export function splitCores(): { client: string; server: string } | undefined {
  return machineCores() >= 2 ? { client: "0", server: "1" } : undefined;
}

/**
 * Gives this process and everything it started every core again, and checks that it did: a
 * harness left on one core would skew every scenario after the pass.
 */
export async function unpinSelf(): Promise<void> {
  await pinTree(process.pid, `0-${machineCores() - 1}`);
  if (availableParallelism() !== machineCores()) {
    throw new Error(
      `still on ${availableParallelism()} of ${machineCores()} cores after unpinning`,
    );
  }
}

/** Children of `pid` (all its threads'), then theirs, from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of tasks) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const child of text.split(" ").filter(Boolean).map(Number)) {
      out.push(child, ...descendants(child));
    }
  }
  return out;
}

/**
 * Pins `pid`, every thread of it and every descendant to `cores` (taskset's list syntax). A
 * process that exits meanwhile is skipped; any other refusal throws.
 */
export async function pinTree(pid: number, cores: string): Promise<void> {
  for (const p of [pid, ...descendants(pid)]) {
    const r = await run(["taskset", "-a", "-p", "-c", cores, String(p)]);
    if (r.code !== 0 && running(p)) {
      throw new Error(`taskset -p -c ${cores} ${p} failed: ${r.stderr.trim()}`);
    }
  }
}

function running(pid: number): boolean {
  try {
    readdirSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
