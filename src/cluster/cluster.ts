/**
 * Several gateways, one policy (docs/cluster.md): the shared replay store and, with
 * CLUSTER_GRANTS, the grant fan-out, on one Redis/Valkey. main.ts imports this module only when
 * REPLAY_CACHE_URL is set, so a standalone gateway never loads the Redis client.
 */
import type { GrantRequest } from "../firewall/rules.js";
import type { Logger } from "../log/logger.js";
import { GrantFanout } from "./fanout.js";
import { grantRequest } from "./grant-message.js";
import { closeLink, openRedisLink } from "./redis-link.js";
import type { ClusterSettings } from "./settings.js";
import { RedisReplayStore, type SharedReplay } from "./shared-replay.js";

/** What the daemon sees of the cluster. */
export interface ClusterPort {
  /** The cluster-wide replay check, for packets that passed HMAC. */
  readonly replay: SharedReplay;
  /** Publishes a grant decided here; a no-op without CLUSTER_GRANTS. */
  publish(req: GrantRequest, expiresAt: number): void;
}

export interface RunningCluster extends ClusterPort {
  /** Starts applying the other gateways' grants through `apply` (with CLUSTER_GRANTS). */
  startFanout(apply: (req: GrantRequest, expiresAt: number) => Promise<void>): void;
  /** One line for the SIGUSR1 summary. */
  summary(): string;
  stop(): Promise<void>;
}

export async function startCluster(
  settings: ClusterSettings,
  log: Logger,
): Promise<RunningCluster> {
  const key = settings.key;
  const fanning = settings.grants && key !== undefined;
  // Both links connect at once: a store that is down costs one connect timeout, not two.
  const [link, reader] = await Promise.all([
    openRedisLink({ settings, log, role: "shared store" }),
    fanning
      ? openRedisLink({
          settings,
          log,
          role: "fan-out reader",
          // A blocking XREAD waits up to READ_BLOCK_MS by design; only longer is a failure.
          commandTimeoutMs: 10_000,
        })
      : undefined,
  ]);
  const replay = new RedisReplayStore(link, settings, log);
  const fanout =
    reader && key
      ? new GrantFanout({ settings: { ...settings, key }, link, reader, log })
      : undefined;
  log.info(
    `Cluster '${settings.name}': shared replay cache on ${settings.display}` +
      `${fanout ? ", grant fan-out on" : ""}, fail mode ${settings.failMode}`,
  );
  return {
    replay,
    publish: (req, expiresAt) => fanout?.publish(req, expiresAt),
    startFanout: (apply) => fanout?.start((g) => apply(grantRequest(g), g.expiresAt)),
    summary: () => `cluster '${settings.name}': ${fanout ? fanout.summary() : "replay only"}`,
    async stop() {
      await fanout?.stop();
      if (reader) await closeLink(reader);
      await closeLink(link);
    },
  };
}
