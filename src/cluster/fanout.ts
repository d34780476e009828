/**
 * Grant fan-out through the shared store: every grant decided on one gateway is applied by all.
 *
 * Two keys per cluster, in one hash slot (`{name}`) so the publishing MULTI also works on Redis
 * Cluster:
 * - `{name}:grants`, a stream capped at about CLUSTER_STREAM_MAXLEN entries: the live feed;
 * - `{name}:live`, a sorted set of the same signed messages scored by absolute expiry: what a
 *   gateway that (re)connects catches up on. Expired members are pruned on every publish.
 * Catch-up order, on start and after every reconnect of the reader: note the stream's newest id,
 * apply every live member, then read the stream after that id. A grant published in between
 * shows up twice at most, and the ledger merges duplicates (a re-knock refreshes, never doubles).
 * A message whose expiry has passed is never applied; one that fails the cluster-key check is
 * ignored and counted.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { GrantRequest } from "../firewall/rules.js";
import type { Logger } from "../log/logger.js";
import { fanoutChannel } from "./channels.js";
import { type ClusterGrant, openGrant, signGrant } from "./grant-message.js";
import { dropLink, linkReady, type RedisLink } from "./redis-link.js";
import type { ClusterSettings } from "./settings.js";

export interface FanoutOptions {
  settings: ClusterSettings & { key: Buffer };
  /** The command link (shared with the replay store). */
  link: RedisLink;
  /** A link of its own for the blocking stream read. */
  reader: RedisLink;
  log: Logger;
  /** Unix time in milliseconds (default Date.now). */
  now?: () => number;
}

export interface FanoutCounts {
  published: number;
  applied: number;
  /** Our own messages coming back, skipped. */
  own: number;
  /** Live when published, expired by the time they were read: not applied. */
  expired: number;
  /** Failed the cluster-key check (FWK_ERR_CLUSTER_FORGED). */
  forged: number;
  /** Signed, but not a valid grant (FWK_ERR_CLUSTER_MESSAGE). */
  invalid: number;
}

/** Unpublished grants kept while the store is down (oldest dropped beyond this). */
const MAX_PENDING = 10_000;
/** How long one XREAD waits for news before it is re-issued. */
export const READ_BLOCK_MS = 2000;
const READ_COUNT = 500;

/** A gateway id unique per process (namespaced gateways share one host name). */
export function newGatewayId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString("hex")}`;
}

export class GrantFanout {
  readonly counts: FanoutCounts = {
    published: 0,
    applied: 0,
    own: 0,
    expired: 0,
    forged: 0,
    invalid: 0,
  };
  readonly gatewayId = newGatewayId();
  readonly #o: FanoutOptions;
  readonly #stream: string;
  readonly #live: string;
  readonly #now: () => number;
  #pending: ClusterGrant[] = [];
  #apply: ((g: ClusterGrant) => Promise<void>) | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;
  #catchUp = true;

  constructor(o: FanoutOptions) {
    this.#o = o;
    this.#stream = `{${o.settings.name}}:grants`;
    this.#live = `{${o.settings.name}}:live`;
    this.#now = o.now ?? Date.now;
    // Whatever was published or lost while a link was down is settled when it comes back.
    o.link.on("ready", () => void this.#flushPending());
    o.reader.on("ready", () => {
      this.#catchUp = true;
    });
  }

  /** Publishes a grant decided on this gateway; kept for later if the store is unreachable. */
  publish(req: GrantRequest, expiresAt: number): void {
    const g: ClusterGrant = { ...req, ports: [...req.ports], origin: this.gatewayId, expiresAt };
    if (!linkReady(this.#o.link)) {
      this.#keep(g);
      return;
    }
    this.#send(g).catch(() => this.#keep(g));
  }

  /** Starts applying the other gateways' grants: catch-up first, then the live feed. */
  start(apply: (g: ClusterGrant) => Promise<void>): void {
    this.#apply = apply;
    this.#loop = this.#readLoop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    dropLink(this.#o.reader);
    await this.#loop;
  }

  summary(): string {
    const c = this.counts;
    return `published ${c.published}, applied ${c.applied}, expired on arrival ${c.expired}, forged ${c.forged}, invalid ${c.invalid}`;
  }

  /** Counts an outcome (and tells metrics subscribers); returns the new count. */
  #count(outcome: keyof FanoutCounts): number {
    if (fanoutChannel.hasSubscribers) fanoutChannel.publish({ outcome });
    return ++this.counts[outcome];
  }

  async #send(g: ClusterGrant): Promise<void> {
    const { settings, link } = this.#o;
    const { body, sig } = signGrant(g, settings.key, settings.name);
    const nowSec = Math.floor(this.#now() / 1000);
    const result = await link
      .multi()
      .xadd(this.#stream, "MAXLEN", "~", settings.streamMaxLen, "*", "m", body, "s", sig)
      .zadd(this.#live, g.expiresAt, `${sig} ${body}`)
      .zremrangebyscore(this.#live, "-inf", nowSec)
      .exec();
    const failed = result?.find(([e]) => e !== null)?.[0];
    if (result === null || failed) throw failed ?? new Error("fan-out transaction aborted");
    this.#count("published");
    // A send that failed while the link stayed up is retried after the next one that works.
    if (this.#pending.length > 0) void this.#flushPending();
  }

  #keep(g: ClusterGrant): void {
    this.#pending.push(g);
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
  }

  async #flushPending(): Promise<void> {
    const nowSec = this.#now() / 1000;
    const due = this.#pending.filter((g) => g.expiresAt > nowSec);
    this.#pending = [];
    if (due.length === 0) return;
    this.#o.log.info(`Cluster: publishing ${due.length} grant(s) decided while the store was down`);
    for (const g of due) await this.#send(g).catch(() => this.#keep(g));
  }

  async #readLoop(): Promise<void> {
    const { reader, log } = this.#o;
    let lastId = "$";
    while (!this.#stopped) {
      try {
        if (this.#catchUp) {
          this.#catchUp = false;
          lastId = await this.#catchUpLive();
        }
        const reply = (await reader.xread(
          "COUNT",
          READ_COUNT,
          "BLOCK",
          READ_BLOCK_MS,
          "STREAMS",
          this.#stream,
          lastId,
        )) as [string, [string, string[]][]][] | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.#receive(field(fields, "m"), field(fields, "s"));
          }
        }
      } catch (e) {
        if (this.#stopped) break;
        // The reader's "ready" handler asks for a catch-up once it is back.
        this.#catchUp = true;
        log.debug(`Cluster: fan-out read failed: ${(e as Error).message}`);
        await sleep(linkReady(reader) ? 200 : 500);
      }
    }
  }

  /** Applies every live grant; returns the stream id to read on from. */
  async #catchUpLive(): Promise<string> {
    const { reader, log } = this.#o;
    const tip = (await reader.xrevrange(this.#stream, "+", "-", "COUNT", 1)) as [
      string,
      string[],
    ][];
    const nowSec = Math.floor(this.#now() / 1000);
    const members = await reader.zrangebyscore(this.#live, `(${nowSec}`, "+inf");
    const before = this.counts.applied;
    for (const m of members) {
      const space = m.indexOf(" ");
      this.#receive(m.slice(space + 1), space > 0 ? m.slice(0, space) : undefined);
    }
    log.info(
      `Cluster: caught up on ${members.length} live grant(s) from the store, ${this.counts.applied - before} applied here`,
    );
    return tip[0]?.[0] ?? "0-0";
  }

  #receive(body: string | undefined, sig: string | undefined): void {
    const { settings, log } = this.#o;
    const opened = openGrant({ body, sig }, settings.key, settings.name);
    if (!opened.ok) {
      const n = this.#count(opened.code === "FWK_ERR_CLUSTER_FORGED" ? "forged" : "invalid");
      // The first few and then every 100th: write access to Redis must not flood the log either.
      if (n <= 10 || n % 100 === 0)
        log.warn(`Cluster: ignored fan-out message #${n}: ${opened.detail} [${opened.code}]`);
      return;
    }
    const g = opened.value;
    if (g.origin === this.gatewayId) {
      this.#count("own");
      return;
    }
    if (g.expiresAt <= this.#now() / 1000) {
      this.#count("expired");
      return;
    }
    this.#count("applied");
    log.info(
      `Cluster: grant from ${g.origin} for ${g.clientIp} ${g.ports.map((p) => `${p.proto}/${p.port}`).join(",")}, expires at ${g.expiresAt}`,
    );
    this.#apply?.(g).catch((e: unknown) =>
      log.error(
        `Cannot add access rules for ${g.clientIp} (cluster grant): ${(e as Error).message} [FWK_ERR_FW_APPLY]`,
      ),
    );
  }
}

function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
