/** Paced UDP floods of pre-built packets from the client namespace (runs bench/agents/flood.js there). */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { NetnsPair } from "./netns.js";

// A CLI, so it lives outside dist/test (node --test runs every file there).
const floodTool = fileURLToPath(new URL("../../bench/agents/flood.js", import.meta.url));

/** Sends `wires` to the server's SPA port at `rate` per second; resolves once all are sent. */
export function floodFromClient(
  pair: NetnsPair,
  wires: readonly string[],
  file: string,
  rate: number,
): Promise<void> {
  writeFileSync(file, `${wires.join("\n")}\n`);
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      pair.client,
      process.execPath,
      floodTool,
      pair.serverIp,
      "62201",
      String(rate),
      file,
    ],
    { stdio: "ignore" },
  );
  return new Promise((resolve, reject) =>
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`flood exited ${code}`)),
    ),
  );
}
