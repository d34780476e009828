/**
 * Small pieces every scenario shares: keys, the access stanza, a daemon facing N other grants,
 * waiting for counts to settle.
 */
import { randomBytes } from "node:crypto";
import type { BenchKeys } from "../../test/helpers/bench-knock.js";
import {
  type BenchDaemon,
  type DaemonKind,
  flushAtInitVariable,
  startBenchDaemon,
} from "../lib/daemon.js";
import { type BenchNet, preloadGrants } from "../lib/net.js";
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

export interface WithOthers {
  kind: DaemonKind;
  net: BenchNet;
  /** Other grants already active: `_exp_` rules two hours ahead, adopted at start. */
  others: number;
  access: string;
  readyTimeoutMs?: number;
  capture?: "udp" | "pcap";
}

/**
 * Starts a daemon that faces `others` active grants: they are pre-inserted into the firewall and
 * adopted (FLUSH_IPT_AT_INIT N), so every daemon starts from the same state.
 */
export async function startWithOthers(o: WithOthers): Promise<BenchDaemon> {
  if (o.others > 0) {
    await preloadGrants(o.net.pair.server, o.others, Math.floor(Date.now() / 1000) + 7200, o.kind);
  }
  return startBenchDaemon({
    kind: o.kind,
    netns: o.net.pair.server,
    conf: { [flushAtInitVariable(o.kind)]: o.others > 0 ? "N" : "Y" },
    access: o.access,
    ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
    ...(o.capture !== undefined ? { capture: o.capture } : {}),
  });
}
