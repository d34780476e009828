/** Replay-cache test data: made-up digest.cache entries, a temp dir, cache options. */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../src/log/logger.js";
import type { FileReplayCacheOptions } from "../../src/server/replay/file-cache.js";
import type { ReplayEntry } from "../../src/server/replay/replay-cache.js";

/** Written by fwknopd 2.6.10 (-U, -d) while fwknop 2.6.10 knocked it from another netns. */
export const C_FIXTURE = fileURLToPath(
  new URL("../../../test/vectors/digest-cache-c2610.txt", import.meta.url),
);

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "fwk-replay-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const digestOf = (s: string | number) =>
  createHash("sha256").update(String(s)).digest("base64").slice(0, 43);

export function entry(i: number, time = 1_795_771_000 + i): ReplayEntry {
  return {
    digest: digestOf(i),
    proto: 17,
    srcIp: `198.18.1.${i % 250}`,
    srcPort: 40000 + i,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    time,
  };
}

export const line = (e: ReplayEntry) =>
  `${e.digest} ${e.proto} ${e.srcIp} ${e.srcPort} ${e.dstIp} ${e.dstPort} ${e.time}\n`;

export function options(path: string, log: Logger, extra: Partial<FileReplayCacheOptions> = {}) {
  return { path, log, ...extra };
}
