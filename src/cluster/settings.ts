/**
 * The cluster settings (docs/cluster.md): where the shared Redis/Valkey store is, whether grants
 * fan out, the cluster key and what to do while the store is unreachable. Read once at start-up,
 * before any firewall change, so a bad value is one `file:line` error and exit 1.
 * No REPLAY_CACHE_URL means standalone: clusterSettings() returns undefined and nothing of
 * src/cluster/ beyond this file is loaded.
 */
import { readFileSync } from "node:fs";
import type { ServerConfig } from "../config/server-config.js";
import type { ServerVariableName } from "../config/server-variables.js";
import { FwknopError } from "../errors.js";

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
}

/** The store REPLAY_CACHE_URL names, in the shapes the Redis client takes. */
export type StoreAddress = Credentials &
  (
    | { kind: "single"; node: HostPort; tls: boolean; db: number }
    | { kind: "unix"; path: string; db: number }
    | { kind: "sentinel"; sentinels: HostPort[]; master: string; tls: boolean; db: number }
    | { kind: "cluster"; nodes: HostPort[]; tls: boolean }
  );

export type FailMode = "closed" | "local";

export interface ClusterSettings {
  address: StoreAddress;
  /** REPLAY_CACHE_URL with any password replaced by `***`, for logs. */
  display: string;
  /** CLUSTER_NAME: prefix of every key, so several clusters can share one store. */
  name: string;
  /** CLUSTER_GRANTS: publish grants and apply the other gateways' grants. */
  grants: boolean;
  /** CLUSTER_KEY_BASE64 decoded: signs every fan-out message (required with CLUSTER_GRANTS). */
  key: Buffer | undefined;
  failMode: FailMode;
  /** PEM text of CLUSTER_TLS_CA_FILE / _CERT_FILE / _KEY_FILE. */
  tls: { ca?: string; cert?: string; key?: string };
  /** CLUSTER_STREAM_MAXLEN: about how many fan-out messages the stream keeps. */
  streamMaxLen: number;
  /**
   * How long a digest stays in the shared store: twice MAX_SPA_PACKET_AGE (a packet may carry a
   * timestamp up to that far ahead) plus CLOCK_SKEW_ALLOWANCE_S between the gateways' clocks.
   * Undefined with packet aging off: then a digest is kept for good, as upstream does.
   */
  replayTtlMs: number | undefined;
}

/** How far apart the gateways' clocks may be (seconds); see docs/cluster.md, "Clocks". */
export const CLOCK_SKEW_ALLOWANCE_S = 60;

const SCHEMES = [
  "redis",
  "rediss",
  "unix",
  "redis-sentinel",
  "rediss-sentinel",
  "redis-cluster",
  "rediss-cluster",
] as const;

/** The cluster settings, or undefined when REPLAY_CACHE_URL is unset (standalone gateway). */
export function clusterSettings(cfg: ServerConfig): ClusterSettings | undefined {
  const at = (name: ServerVariableName) => cfg.where(name) ?? "default";
  const bad = (name: ServerVariableName, why: string): never => {
    throw new FwknopError("FWK_ERR_CONFIG_VALUE", `${at(name)}: ${name} ${why}`);
  };
  const url = cfg.get("REPLAY_CACHE_URL");
  const grants = cfg.bool("CLUSTER_GRANTS");
  if (url === undefined || url === "") {
    if (grants) bad("CLUSTER_GRANTS", "needs REPLAY_CACHE_URL (the store grants fan out through)");
    return undefined;
  }
  const address = parseStoreUrl(url);
  if (typeof address === "string") return bad("REPLAY_CACHE_URL", `'${redact(url)}': ${address}`);

  const name = cfg.get("CLUSTER_NAME");
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    bad("CLUSTER_NAME", `'${name}' must be 1-64 letters, digits, '_', '.' or '-'`);

  const failText = cfg.get("CLUSTER_FAIL_MODE").toLowerCase();
  if (failText !== "closed" && failText !== "local")
    bad("CLUSTER_FAIL_MODE", `'${failText}' is not 'closed' or 'local'`);

  const keyText = cfg.get("CLUSTER_KEY_BASE64");
  let key: Buffer | undefined;
  if (keyText !== undefined) {
    key = Buffer.from(keyText, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText) || key.length < 32)
      bad(
        "CLUSTER_KEY_BASE64",
        "must be base64 of at least 32 bytes (fwknopd --key-gen makes one)",
      );
  } else if (grants) {
    bad("CLUSTER_GRANTS", "needs CLUSTER_KEY_BASE64 (every fan-out message is signed with it)");
  }

  const tls: ClusterSettings["tls"] = {};
  for (const [field, name] of [
    ["ca", "CLUSTER_TLS_CA_FILE"],
    ["cert", "CLUSTER_TLS_CERT_FILE"],
    ["key", "CLUSTER_TLS_KEY_FILE"],
  ] as const) {
    const file = cfg.get(name);
    if (file === undefined) continue;
    try {
      tls[field] = readFileSync(file, "utf8");
    } catch (e) {
      bad(name, `'${file}' cannot be read: ${(e as Error).message}`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined))
    bad("CLUSTER_TLS_CERT_FILE", "and CLUSTER_TLS_KEY_FILE go together");

  const maxAge = cfg.bool("ENABLE_SPA_PACKET_AGING") ? cfg.int("MAX_SPA_PACKET_AGE") : undefined;
  return {
    address,
    display: redact(url),
    name,
    grants,
    key,
    failMode: failText as FailMode,
    tls,
    streamMaxLen: cfg.int("CLUSTER_STREAM_MAXLEN"),
    replayTtlMs: maxAge === undefined ? undefined : (2 * maxAge + CLOCK_SKEW_ALLOWANCE_S) * 1000,
  };
}

/**
 * `redis://[user[:pass]@]host[:port][/db]`, `rediss://…` (TLS), `unix://[user[:pass]@]/path[?db=N]`,
 * `redis-sentinel://[user[:pass]@]host:port[,host:port…]/master[/db]`,
 * `redis-cluster://[user[:pass]@]host:port[,host:port…]` (`rediss-…` with TLS).
 * Returns the parsed address or why it is not one.
 */
export function parseStoreUrl(url: string): StoreAddress | string {
  const m = /^([a-z-]+):\/\/(?:([^@/]*)@)?([^/?]*)(\/[^?]*)?(?:\?db=(\d+))?$/.exec(url);
  if (!m) return "not a URL of the form scheme://[user:password@]host[:port][/…]";
  const [, scheme = "", auth, hosts = "", path = "", dbQuery] = m;
  if (!(SCHEMES as readonly string[]).includes(scheme))
    return `scheme '${scheme}' is not one of ${SCHEMES.join(", ")}`;
  const cred = credentials(auth);
  if (typeof cred === "string") return cred;
  const tls = scheme.startsWith("rediss");

  if (scheme === "unix") {
    if (hosts !== "" || !path.startsWith("/")) return "unix:// needs an absolute socket path";
    return { kind: "unix", path: decodeURIComponent(path), db: Number(dbQuery ?? 0), ...cred };
  }
  const nodes: HostPort[] = [];
  for (const part of hosts.split(",")) {
    const hp = hostPort(part, scheme.endsWith("sentinel") ? 26379 : 6379);
    if (typeof hp === "string") return hp;
    nodes.push(hp);
  }
  const segments = path.split("/").filter((s) => s !== "");
  const db = (text: string | undefined): number | string =>
    text === undefined
      ? 0
      : /^\d{1,5}$/.test(text)
        ? Number(text)
        : `database '${text}' is not a number`;

  if (scheme.endsWith("-sentinel")) {
    const master = segments[0];
    if (master === undefined) return "a sentinel URL names the master set: …/mymaster";
    const n = db(segments[1]);
    if (typeof n === "string") return n;
    return { kind: "sentinel", sentinels: nodes, master, tls, db: n, ...cred };
  }
  if (scheme.endsWith("-cluster")) {
    if (segments.length > 0) return "Redis Cluster has no databases: drop the /path";
    return { kind: "cluster", nodes, tls, ...cred };
  }
  const [node] = nodes;
  if (nodes.length !== 1 || node === undefined)
    return "redis:// names one host (use redis-sentinel:// or redis-cluster:// for several)";
  const n = db(segments[0]);
  if (typeof n === "string") return n;
  return { kind: "single", node, tls, db: n, ...cred };
}

function credentials(auth: string | undefined): Credentials | string {
  if (auth === undefined || auth === "") return {};
  const colon = auth.indexOf(":");
  try {
    const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
    const password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
    // `redis://:secret@host` is the classic requirepass form: no ACL user name.
    return {
      ...(username !== "" ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  } catch {
    return "the user:password part is not valid percent-encoding";
  }
}

function hostPort(text: string, defaultPort: number): HostPort | string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(text);
  const port = Number(m?.[2] ?? defaultPort);
  if (!m?.[1] || port < 1 || port > 65535) return `'${text}' is not host[:port]`;
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** The URL with its password hidden. */
export function redact(url: string): string {
  return url.replace(/^([a-z-]+:\/\/[^:@/]*:)[^@/]*@/, "$1***@");
}
