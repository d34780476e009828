/**
 * The connection to the shared Redis/Valkey store, through ioredis (docs/cluster.md says why
 * that client). Loaded lazily: a standalone gateway never imports it.
 *
 * Behaviour the cluster code relies on:
 * - commands fail fast while the link is down (no offline queue): a knock is then decided by
 *   CLUSTER_FAIL_MODE at once instead of waiting behind a reconnect;
 * - reconnects run for ever with exponential backoff (100 ms doubling, capped at 5 s);
 * - commands issued in the same event-loop turn go out as one pipeline (auto-pipelining), which
 *   is what batches replay claims under load.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { clusterLinkChannel } from "./channels.js";
import type { ClusterSettings, StoreAddress } from "./settings.js";

export type RedisLink = Redis | Cluster;

/** Longest a single command may take before it counts as a failure of the store. */
const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 3000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** Reconnect delay after `attempt` failed attempts (1-based). */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(16, attempt - 1));
}

interface IoredisModule {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

async function loadIoredis(): Promise<IoredisModule> {
  try {
    const mod = await import("ioredis");
    return { Redis: mod.Redis, Cluster: mod.Cluster };
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLUSTER_CLIENT",
      `REPLAY_CACHE_URL is set but the Redis client (ioredis) cannot be loaded: ${(e as Error).message}`,
    );
  }
}

export interface LinkOptions {
  settings: ClusterSettings;
  log: Logger;
  /** Name in log lines ("replay store", "fan-out reader"). */
  role: string;
  /** Per-command timeout (a blocking XREAD needs longer than the default). */
  commandTimeoutMs?: number;
}

/**
 * Opens a link; resolves once it is ready or after the connect timeout (the link keeps
 * reconnecting in the background, and the fail mode covers the gap).
 */
export async function openRedisLink(opts: LinkOptions): Promise<RedisLink> {
  const mod = await loadIoredis();
  const { settings, log, role } = opts;
  const common: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    retryStrategy: backoffMs,
    ...credentialsOf(settings.address),
  };
  const tls = tlsOptions(settings);
  const link = createLink(mod, settings.address, common, tls);
  watchState(link, log, role, settings.display);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CONNECT_TIMEOUT_MS);
    link.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return link;
}

function createLink(
  mod: IoredisModule,
  address: StoreAddress,
  common: RedisOptions,
  tls: RedisOptions["tls"],
): RedisLink {
  switch (address.kind) {
    case "single":
      return new mod.Redis({
        ...common,
        host: address.node.host,
        port: address.node.port,
        db: address.db,
        ...(address.tls ? { tls } : {}),
      });
    case "unix":
      return new mod.Redis({ ...common, path: address.path, db: address.db });
    case "sentinel":
      return new mod.Redis({
        ...common,
        sentinels: address.sentinels,
        name: address.master,
        db: address.db,
        ...(address.tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      });
    case "cluster": {
      const options: ClusterOptions = {
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: backoffMs,
        redisOptions: { ...common, ...(address.tls ? { tls } : {}) },
      };
      return new mod.Cluster(address.nodes, options);
    }
  }
}

function credentialsOf(a: StoreAddress): Pick<RedisOptions, "username" | "password"> {
  return {
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(a.password !== undefined ? { password: a.password } : {}),
  };
}

function tlsOptions(s: ClusterSettings): RedisOptions["tls"] {
  return {
    ...(s.tls.ca !== undefined ? { ca: s.tls.ca } : {}),
    ...(s.tls.cert !== undefined ? { cert: s.tls.cert } : {}),
    ...(s.tls.key !== undefined ? { key: s.tls.key } : {}),
  };
}

/** Links being closed on purpose: their "close" is no outage worth a warning. */
const closing = new WeakSet<RedisLink>();

/** One log line per state change (not per failed reconnect attempt). */
function watchState(link: RedisLink, log: Logger, role: string, display: string): void {
  const what = `${role} (${display})`;
  let up = false;
  let lastError = "";
  link.on("ready", () => {
    up = true;
    lastError = "";
    log.info(`Cluster: connected to the ${what}`);
    if (clusterLinkChannel.hasSubscribers) clusterLinkChannel.publish({ role, up });
  });
  link.on("error", (e: Error) => {
    if (e.message === lastError) return;
    lastError = e.message;
    log.warn(`Cluster: ${what}: ${e.message} [FWK_ERR_CLUSTER_LINK]`);
  });
  link.on("close", () => {
    if (!up || closing.has(link)) return;
    up = false;
    if (clusterLinkChannel.hasSubscribers) clusterLinkChannel.publish({ role, up });
    log.warn(
      `Cluster: lost the connection to the ${what}; reconnecting with backoff [FWK_ERR_CLUSTER_LINK]`,
    );
  });
}

/** True while commands can be sent. */
export function linkReady(link: RedisLink): boolean {
  return link.status === "ready";
}

/** Drops a link at once (a pending blocking read fails), without an outage warning. */
export function dropLink(link: RedisLink): void {
  closing.add(link);
  link.disconnect();
}

/** Closes a link without waiting for a store that may be gone. */
export async function closeLink(link: RedisLink): Promise<void> {
  closing.add(link);
  if (link.status === "ready") {
    await Promise.race([
      link.quit().catch(() => undefined),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
  }
  link.disconnect();
}
