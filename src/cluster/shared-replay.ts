/**
 * The shared replay store: the cluster-wide "have we accepted this packet?" check. One atomic
 * `SET <name>:replay:<digest> <entry> NX PX <ttl>` per authenticated packet decides which
 * gateway owns a packet, also when copies reach several gateways in the same millisecond:
 * exactly one SET succeeds, every other copy is a replay. The pipeline calls claim() only after
 * a stanza's HMAC has authenticated the packet, so junk never reaches the store.
 *
 * While the store is unreachable, CLUSTER_FAIL_MODE decides: `closed` refuses the knock
 * (FWK_ERR_CLUSTER_UNAVAILABLE), `local` lets the local replay cache (already consulted) decide
 * and logs a warning.
 */
import type { Logger } from "../log/logger.js";
import { type ReplayEntry, replayDetectedMessage } from "../server/replay/replay-cache.js";
import type { RedisLink } from "./redis-link.js";
import type { ClusterSettings } from "./settings.js";

export type ClaimResult =
  | { ok: true }
  | { ok: false; code: "SPA_MSG_REPLAY" | "FWK_ERR_CLUSTER_UNAVAILABLE"; detail: string };

/** The pipeline's view of the shared store (src/server/pipeline.ts). */
export interface SharedReplay {
  claim(entry: ReplayEntry): Promise<ClaimResult>;
}

export class RedisReplayStore implements SharedReplay {
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #ttlMs: number | undefined;
  readonly #failMode: ClusterSettings["failMode"];
  readonly #log: Logger;
  /** Packets let through by the local cache during the current outage (local mode). */
  #localOnly = 0;

  constructor(link: RedisLink, settings: ClusterSettings, log: Logger) {
    this.#link = link;
    this.#prefix = `${settings.name}:replay:`;
    this.#ttlMs = settings.replayTtlMs;
    this.#failMode = settings.failMode;
    this.#log = log;
  }

  async claim(entry: ReplayEntry): Promise<ClaimResult> {
    const key = this.#prefix + entry.digest;
    const value = encodeEntry(entry);
    let set: string | null;
    try {
      set =
        this.#ttlMs === undefined
          ? await this.#link.set(key, value, "NX")
          : await this.#link.set(key, value, "PX", this.#ttlMs, "NX");
    } catch (e) {
      return this.#unavailable(entry, e);
    }
    if (this.#localOnly > 0) {
      this.#log.info(
        `Cluster: shared replay store reachable again; ${this.#localOnly} knock(s) were checked against the local cache only`,
      );
      this.#localOnly = 0;
    }
    if (set === "OK") return { ok: true };
    // Another gateway (or an earlier copy) owns the digest: report what it recorded.
    const stored = await this.#link.get(key).catch(() => null);
    const original = (stored !== null ? decodeEntry(entry.digest, stored) : undefined) ?? entry;
    return { ok: false, code: "SPA_MSG_REPLAY", detail: replayDetectedMessage(entry, original) };
  }

  #unavailable(entry: ReplayEntry, e: unknown): ClaimResult {
    const why = (e as Error).message ?? String(e);
    if (this.#failMode === "closed") {
      return {
        ok: false,
        code: "FWK_ERR_CLUSTER_UNAVAILABLE",
        detail: `Shared replay store unreachable (${why}); knock from ${entry.srcIp} refused (CLUSTER_FAIL_MODE closed)`,
      };
    }
    // Warn on the first knock of an outage, then every 100th, so a busy gateway stays readable.
    if (this.#localOnly++ % 100 === 0) {
      this.#log.warn(
        `Cluster: shared replay store unreachable (${why}); knock from ${entry.srcIp} checked against the local replay cache only (CLUSTER_FAIL_MODE local) [FWK_ERR_CLUSTER_UNAVAILABLE]`,
      );
    }
    return { ok: true };
  }
}

/** The digest.cache line fields after the digest: `proto src_ip src_port dst_ip dst_port time`. */
export function encodeEntry(e: ReplayEntry): string {
  return `${e.proto} ${e.srcIp} ${e.srcPort} ${e.dstIp} ${e.dstPort} ${e.time}`;
}

export function decodeEntry(digest: string, text: string): ReplayEntry | undefined {
  const [proto, srcIp, srcPort, dstIp, dstPort, time, ...rest] = text.split(" ");
  if (rest.length > 0 || !srcIp || !dstIp) return undefined;
  const [p, sp, dp, t] = [proto, srcPort, dstPort, time].map(Number);
  const valid = [p, sp, dp, t].every((n) => n !== undefined && Number.isInteger(n) && n >= 0);
  if (!valid || p === undefined || sp === undefined || dp === undefined || t === undefined)
    return undefined;
  return { digest, proto: p, srcIp, srcPort: sp, dstIp, dstPort: dp, time: t };
}
