/**
 * How fast a large digest.cache loads, and what it keeps in memory.
 * Usage: node dist/bench/replay-load.js [entries=1000000]
 * Writes a synthetic file under /tmp (random SHA-256 digests, UDP-server addressing), then
 * loads it with openFileReplayCache in a fresh process (so the generator's garbage does not
 * blur the memory figure) and prints wall time, CPU time and retained memory.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { silentLogger } from "../src/log/logger.js";
import { DIGEST_FILE_HEADER, openFileReplayCache } from "../src/server/replay/file-cache.js";

const now = 1_795_771_500;

/**
 * CPU time of the main (JS) thread alone, from /proc: on a shared machine wall time mostly
 * measures the neighbours, and process CPU includes GC and compiler threads.
 */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

if (process.argv[2] === "--load") {
  const path = process.argv[3] ?? "";
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  const cache = await openFileReplayCache({ path, log: silentLogger });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadCpuMs() - main0;
  // Freed ArrayBuffers are released by a background task after GC: give it a moment, so the
  // figure is what the cache keeps, not the load's temporaries.
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  const after = process.memoryUsage();
  const retained = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  console.log(
    JSON.stringify({
      entries: cache.size,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      mainThreadCpuMs: mainMs,
      retainedMB: +(retained / 1048576).toFixed(1),
      rssDeltaMB: +((after.rss - before.rss) / 1048576).toFixed(1),
    }),
  );
  await cache.close();
} else {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), "fwk-replay-bench-"));
  const path = join(dir, "digest.cache");
  const fd = openSync(path, "w");
  writeSync(fd, DIGEST_FILE_HEADER);
  const seed = randomBytes(16);
  let chunk: string[] = [];
  for (let i = 0; i < entries; i++) {
    const digest = createHash("sha256").update(seed).update(String(i)).digest("base64");
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    chunk.push(`${digest.slice(0, 43)} 17 ${src} ${1024 + (i % 60000)} 0.0.0.0 62201 ${now - i}\n`);
    if (chunk.length === 10_000) {
      writeSync(fd, chunk.join(""));
      chunk = [];
    }
  }
  writeSync(fd, chunk.join(""));
  closeSync(fd);
  console.log(`file: ${entries} entries, ${(statSync(path).size / 1048576).toFixed(1)} MB`);
  const self = fileURLToPath(import.meta.url);
  for (let run = 0; run < 3; run++) {
    const out = execFileSync(process.execPath, ["--expose-gc", self, "--load", path]);
    process.stdout.write(out);
  }
  rmSync(dir, { recursive: true, force: true });
}
