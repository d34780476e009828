/** Small pieces every scenario shares: keys, the access stanza, waiting for counts to settle. */
import { randomBytes } from "node:crypto";
import type { BenchKeys } from "../../test/helpers/bench-knock.js";
import { sleep } from "../lib/result.js";

export function newKeys(): BenchKeys {
  return { key: randomBytes(32).toString("base64"), hmac: randomBytes(64).toString("base64") };
}

/** One stanza accepting every source, keys as base64, HMAC-SHA-256 (the client default). */
export function accessFor(keys: BenchKeys, extra: Record<string, string> = {}): string {
  const vars: Record<string, string> = {
    KEY_BASE64: keys.key,
    HMAC_KEY_BASE64: keys.hmac,
    ...extra,
  };
  return `SOURCE    ANY\n${Object.entries(vars)
    .map(([k, v]) => `${k}    ${v}\n`)
    .join("")}\n`;
}

/**
 * Waits until `count()` reaches `target`, or stops growing for `quietMs`, or `maxMs` passes.
 * A daemon still working through a backlog keeps the count growing, so it gets its time.
 */
export async function settle(
  count: () => number,
  target: number,
  quietMs: number,
  maxMs: number,
): Promise<void> {
  const end = Date.now() + maxMs;
  let last = count();
  let lastChange = Date.now();
  while (count() < target && Date.now() < end && Date.now() - lastChange < quietMs) {
    await sleep(50);
    const now = count();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}
