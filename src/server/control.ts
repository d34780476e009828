/**
 * -K (kill), -S (status) and -R (restart = reload) against a running fwknopd, found through
 * its PID file. Messages are upstream's, which scripts parse.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { readRunningPid } from "./pid-file.js";

export async function controlRunningDaemon(
  action: "kill" | "status" | "restart",
  pidPath: string,
): Promise<number> {
  const pid = readRunningPid(pidPath);
  if (pid === undefined) {
    process.stdout.write("No running fwknopd detected.\n");
    return 1;
  }
  switch (action) {
    case "status":
      process.stdout.write(`Detected fwknopd is running (pid=${pid}).\n`);
      return 0;
    case "restart":
      process.kill(pid, "SIGHUP");
      process.stdout.write(`Sent restart signal to fwknopd (pid=${pid})\n`);
      return 0;
    case "kill":
      return kill(pid);
  }
}

async function kill(pid: number): Promise<number> {
  process.kill(pid, "SIGTERM");
  // The daemon flushes its rules on SIGTERM; give it time before forcing.
  for (let i = 0; i < 40; i++) {
    await sleep(100);
    if (!alive(pid)) {
      process.stdout.write(`Killed fwknopd (pid=${pid})\n`);
      return 0;
    }
  }
  process.kill(pid, "SIGKILL");
  await sleep(200);
  if (alive(pid)) {
    process.stderr.write(`Unable to kill fwknopd (pid=${pid})\n`);
    return 1;
  }
  process.stdout.write(`Killed fwknopd (pid=${pid}) via SIGKILL\n`);
  return 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
