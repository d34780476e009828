/**
 * Pure builders and parsers for the nftables backend, in nft's JSON language (libnftables-json(5),
 * `nft -j -i` / `nft -j -f`): the table layout, one transaction per ledger batch, and the table
 * listing read back into rules. No process is started here.
 *
 * Layout of our table (family inet, so one table serves IPv4 and IPv6):
 * - timed sets for plain access grants (source . protocol . port, optionally . destination); the
 *   kernel expires elements, so access closes even if the daemon is gone;
 * - one base chain per hook in use, at the standard priority of its type plus NFT_PRIORITY, that
 *   matches the sets and jumps to a regular chain per rule kind (FWKNOP_INPUT, ...);
 * - the regular chains hold the grants that do not fit a set (NAT, FORWARD, OUTPUT, local NAT), one
 *   rule each with the `_exp_<ts>` comment.
 * Granted traffic is accepted in our chain and also gets NFT_MARK OR-ed into its packet mark: an
 * accept only ends our base chain, and the admin's default-drop chain on the same hook still runs,
 * so that chain needs one rule accepting the mark (docs/firewall.md).
 */

import { isIPv4, isIPv6 } from "node:net";
import { FwknopError } from "../errors.js";
import type { ChainKind, Proto, Rule } from "./rule.js";
import { EXPIRE_COMMENT_PREFIX, expireComment, hostAddress } from "./rules.js";

/** What the builders need to know about our table. */
export interface NftLayout {
  table: string;
  /** Offset added to each base chain's standard priority. */
  priority: number;
  mark: number;
  /** Regular chain name per active rule kind (the fifth field of NFT_*_ACCESS). */
  chains: Partial<Record<ChainKind, string>>;
  /** ENABLE_RULE_PREPEND: insert chain rules at the top instead of appending. */
  prepend: boolean;
}

/** One command of a JSON batch, e.g. `{ add: { element: {...} } }`. */
export type NftCommand = Record<string, Record<string, unknown>>;
type Expr = Record<string, unknown>;

const FAMILY = "inet";
const ANY = "0.0.0.0/0";

const SETS = {
  v4: { name: "allow4", addr: "ipv4_addr", payload: "ip" },
  v4dst: { name: "allow4_dst", addr: "ipv4_addr", payload: "ip" },
  v6: { name: "allow6", addr: "ipv6_addr", payload: "ip6" },
  v6dst: { name: "allow6_dst", addr: "ipv6_addr", payload: "ip6" },
} as const;
type SetId = keyof typeof SETS;

interface BaseChain {
  name: string;
  hook: string;
  type: "filter" | "nat";
  /** The standard priority of this chain type at this hook (filter 0, dstnat -100, srcnat 100). */
  standard: number;
  kinds: readonly ChainKind[];
}

const BASE_CHAINS: readonly BaseChain[] = [
  { name: "input", hook: "input", type: "filter", standard: 0, kinds: ["input"] },
  { name: "output", hook: "output", type: "filter", standard: 0, kinds: ["output"] },
  { name: "forward", hook: "forward", type: "filter", standard: 0, kinds: ["forward"] },
  { name: "prerouting", hook: "prerouting", type: "nat", standard: -100, kinds: ["dnat"] },
  {
    name: "postrouting",
    hook: "postrouting",
    type: "nat",
    standard: 100,
    kinds: ["snat", "masquerade"],
  },
];

/** Our base chains' names, which a regular chain named in NFT_*_ACCESS must not take. */
export const BASE_CHAIN_NAMES: ReadonlySet<string> = new Set(BASE_CHAINS.map((c) => c.name));

/** `meta mark set meta mark | <mark>`: lets the admin's own chain accept what we accepted. */
function markExpr(mark: number): Expr {
  const meta = { meta: { key: "mark" } };
  return { mangle: { key: meta, value: { "|": [meta, mark] } } };
}

function match(left: Expr, right: unknown): Expr {
  return { match: { op: "==", left, right } };
}

function payload(protocol: string, field: string): Expr {
  return { payload: { protocol, field } };
}

/** The static rules of the input base chain: one set lookup per set. */
function setMatchExprs(id: SetId, mark: number): Expr[] {
  const s = SETS[id];
  const key: Expr[] = [
    payload(s.payload, "saddr"),
    { meta: { key: "l4proto" } },
    payload("th", "dport"),
  ];
  if (id === "v4dst" || id === "v6dst") key.push(payload(s.payload, "daddr"));
  return [match({ concat: key }, `@${s.name}`), markExpr(mark), { accept: null }];
}

function setType(id: SetId): string[] {
  const s = SETS[id];
  const type = [s.addr, "inet_proto", "inet_service"];
  if (id === "v4dst" || id === "v6dst") type.push(s.addr);
  return type;
}

/**
 * The init transaction: table, sets and regular chains are created if missing (their contents
 * kept, so a restart without flush keeps live grants); base chains are re-created, so a changed
 * NFT_PRIORITY takes effect and their static rules are never doubled.
 */
export function layoutCommands(l: NftLayout): NftCommand[] {
  const t = { family: FAMILY, table: l.table };
  const cmds: NftCommand[] = [{ add: { table: { family: FAMILY, name: l.table } } }];
  for (const id of Object.keys(SETS) as SetId[]) {
    cmds.push({
      add: { set: { ...t, name: SETS[id].name, type: setType(id), flags: ["timeout"] } },
    });
  }
  for (const name of Object.values(l.chains)) cmds.push({ add: { chain: { ...t, name } } });
  for (const base of BASE_CHAINS) {
    const targets = base.kinds.flatMap((k) => l.chains[k] ?? []);
    if (targets.length === 0) continue;
    const chain = { ...t, name: base.name };
    // add (so the next two never fail) + flush + delete, then the chain as configured now.
    cmds.push({ add: { chain } }, { flush: { chain } }, { delete: { chain } });
    cmds.push({
      add: {
        chain: {
          ...chain,
          type: base.type,
          hook: base.hook,
          prio: base.standard + l.priority,
          policy: "accept",
        },
      },
    });
    const rules: Expr[][] =
      base.name === "input"
        ? (Object.keys(SETS) as SetId[]).map((id) => setMatchExprs(id, l.mark))
        : [];
    for (const target of targets) rules.push([{ jump: { target } }]);
    for (const expr of rules) cmds.push({ add: { rule: { ...t, chain: base.name, expr } } });
  }
  return cmds;
}

/** `add table` + `delete table`: deletes our table whether or not it exists. */
export function flushCommands(table: string): NftCommand[] {
  const t = { family: FAMILY, name: table };
  return [{ add: { table: t } }, { delete: { table: t } }];
}

const isAny = (a: string | undefined) => a === undefined || a === ANY || a === "::/0";

/** The set and element value a rule becomes, or undefined if it must be a chain rule. */
export function elementOf(r: Rule): { set: string; val: unknown[] } | undefined {
  if (r.chain !== "input" || r.proto === undefined || r.dport === undefined) return undefined;
  if (r.sport !== undefined || r.src === undefined) return undefined;
  const src = hostAddress(r.src);
  const v6 = isIPv6(src);
  if (!v6 && !isIPv4(src)) return undefined;
  if (isAny(r.dst)) return { set: SETS[v6 ? "v6" : "v4"].name, val: [src, r.proto, r.dport] };
  const dst = hostAddress(r.dst as string);
  if (v6 ? !isIPv6(dst) : !isIPv4(dst)) return undefined;
  return { set: SETS[v6 ? "v6dst" : "v4dst"].name, val: [src, r.proto, r.dport, dst] };
}

/**
 * Kernel timeout in whole seconds (nft's JSON takes no fractions), rounded up: the kernel never
 * closes before the ledger does, and closes on its own at most a second after `_exp_`. Batches of
 * elements only go as native lines with millisecond timeouts instead (nft-native.ts).
 */
export function elementTimeout(r: Rule, nowSec: number): number {
  return Math.max(1, Math.ceil(r.expiresAt - nowSec));
}

function elementCommand(verb: "add" | "delete", table: string, r: Rule, nowSec: number) {
  const e = elementOf(r);
  if (!e) throw new FwknopError("FWK_ERR_INTERNAL", "rule does not fit a set");
  const elem = {
    elem: {
      val: { concat: e.val },
      timeout: elementTimeout(r, nowSec),
      comment: expireComment(r.expiresAt),
    },
  };
  return { [verb]: { element: { family: FAMILY, table, name: e.set, elem: [elem] } } };
}

function addrMatch(field: "saddr" | "daddr", addr: string | undefined): Expr[] {
  if (addr === undefined || isAny(addr)) return [];
  const [host = addr, len] = addr.split("/");
  const proto = isIPv6(host) ? "ip6" : "ip";
  const right =
    len === undefined || hostAddress(addr) === host
      ? host
      : { prefix: { addr: host, len: Number(len) } };
  return [match(payload(proto, field), right)];
}

function splitHostPort(text: string): { addr: string; port?: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  return m && !isIPv6(text) ? { addr: m[1] as string, port: Number(m[2]) } : { addr: text };
}

/** The expressions of a chain rule: matches, then the verdict of its kind. */
export function ruleExprs(r: Rule, mark: number): Expr[] {
  const expr: Expr[] = [...addrMatch("saddr", r.src), ...addrMatch("daddr", r.dst)];
  if (r.proto !== undefined) {
    if (r.dport !== undefined) expr.push(match(payload(r.proto, "dport"), r.dport));
    if (r.sport !== undefined) expr.push(match(payload(r.proto, "sport"), r.sport));
    if (r.dport === undefined && r.sport === undefined)
      expr.push(match({ meta: { key: "l4proto" } }, r.proto));
  }
  switch (r.chain) {
    case "dnat":
    case "snat": {
      const to = splitHostPort((r.chain === "dnat" ? r.toDestination : r.toSource) ?? "");
      const family = isIPv6(to.addr) ? "ip6" : "ip";
      expr.push({
        [r.chain]: { family, addr: to.addr, ...(to.port !== undefined ? { port: to.port } : {}) },
      });
      break;
    }
    case "masquerade":
      expr.push({ masquerade: r.toPorts !== undefined ? { port: r.toPorts } : null });
      break;
    default:
      expr.push(markExpr(mark), { accept: null });
  }
  return expr;
}

/** A chain rule found in the listing, with the handle nft deletes it by. */
export interface ListedRule {
  rule: Rule;
  chain: string;
  handle: number;
}

/**
 * One batch as one transaction (atomic: all or nothing). Set removals are written as
 * `add` + `delete` of the element, so removing an element the kernel already expired is not an
 * error; a refreshed grant's old element goes before its new one.
 */
export function applyCommands(
  l: NftLayout,
  add: readonly Rule[],
  removeElements: readonly Rule[],
  removeRules: readonly ListedRule[],
  nowSec: number,
): NftCommand[] {
  const cmds: NftCommand[] = [];
  for (const r of removeElements) {
    cmds.push(
      elementCommand("add", l.table, r, nowSec),
      elementCommand("delete", l.table, r, nowSec),
    );
  }
  for (const { chain, handle } of removeRules) {
    cmds.push({ delete: { rule: { family: FAMILY, table: l.table, chain, handle } } });
  }
  for (const r of add) {
    if (elementOf(r)) {
      cmds.push(elementCommand("add", l.table, r, nowSec));
      continue;
    }
    const chain = l.chains[r.chain];
    if (chain === undefined)
      throw new FwknopError("FWK_ERR_FW_CHAIN_INACTIVE", `no active ${r.chain} chain`);
    const rule = {
      family: FAMILY,
      table: l.table,
      chain,
      comment: expireComment(r.expiresAt),
      expr: ruleExprs(r, l.mark),
    };
    cmds.push(l.prepend ? { insert: { rule } } : { add: { rule } });
  }
  return cmds;
}

/** These commands as one JSON document on one line (a line of `nft -j -i`, or a `-f` file). */
export function script(cmds: readonly NftCommand[]): string {
  return JSON.stringify({ nftables: cmds });
}

function parseExpireComment(comment: unknown): number | undefined {
  if (typeof comment !== "string" || !comment.startsWith(EXPIRE_COMMENT_PREFIX)) return undefined;
  const at = Number(comment.slice(EXPIRE_COMMENT_PREFIX.length));
  return Number.isSafeInteger(at) ? at : undefined;
}

const isProto = (p: unknown): p is Proto => p === "tcp" || p === "udp";

/** Elements of one of our sets (from `nft -j list table`) back into rules. */
function parseElements(name: string, elems: unknown): Rule[] {
  if (!Object.values(SETS).some((s) => s.name === name) || !Array.isArray(elems)) return [];
  const rules: Rule[] = [];
  for (const item of elems as { elem?: { val?: { concat?: unknown[] }; comment?: unknown } }[]) {
    const expiresAt = parseExpireComment(item.elem?.comment);
    const [src, proto, dport, dst] = item.elem?.val?.concat ?? [];
    if (
      expiresAt === undefined ||
      typeof src !== "string" ||
      !isProto(proto) ||
      typeof dport !== "number"
    )
      continue;
    const rule: Rule = { chain: "input", proto, src, dport, expiresAt, via: "set" };
    if (typeof dst === "string") rule.dst = dst;
    rules.push(rule);
  }
  return rules;
}

function addrOf(right: unknown): string | undefined {
  if (typeof right === "string") return right;
  const p = (right as { prefix?: { addr?: unknown; len?: unknown } } | null)?.prefix;
  return typeof p?.addr === "string" ? `${p.addr}/${String(p.len)}` : undefined;
}

/** A rule of one of our regular chains back into a Rule; rules without `_exp_` are not ours. */
function parseChainRule(kind: ChainKind, exprs: unknown, comment: unknown): Rule | undefined {
  const expiresAt = parseExpireComment(comment);
  if (expiresAt === undefined || !Array.isArray(exprs)) return undefined;
  const rule: Rule = { chain: kind, expiresAt, via: "chain" };
  for (const e of exprs as Record<string, Record<string, unknown> | null>[]) {
    const m = e.match as
      | { left?: Record<string, Record<string, unknown>>; right?: unknown }
      | undefined;
    if (m) {
      const field = m.left?.payload?.field;
      const protocol = m.left?.payload?.protocol;
      if (field === "saddr" || field === "daddr") {
        const a = addrOf(m.right);
        if (a !== undefined) rule[field === "saddr" ? "src" : "dst"] = a;
      } else if ((field === "dport" || field === "sport") && isProto(protocol)) {
        rule.proto = protocol;
        rule[field] = Number(m.right);
      } else if (m.left?.meta?.key === "l4proto" && isProto(m.right)) {
        rule.proto = m.right;
      }
      continue;
    }
    const nat = e.dnat ?? e.snat;
    if (nat && typeof nat.addr === "string") {
      const to = nat.port !== undefined ? `${nat.addr}:${String(nat.port)}` : nat.addr;
      if (e.dnat) rule.toDestination = to;
      else rule.toSource = to;
    }
    if ("masquerade" in e && typeof e.masquerade?.port === "number")
      rule.toPorts = e.masquerade.port;
  }
  return rule;
}

/** Our grants in a `nft -j list table inet <table>` answer: set elements and chain rules. */
export function parseListing(
  l: NftLayout,
  json: string,
): { elements: Rule[]; rules: ListedRule[] } {
  const kindOf = new Map(Object.entries(l.chains).map(([k, name]) => [name, k as ChainKind]));
  const elements: Rule[] = [];
  const rules: ListedRule[] = [];
  const items =
    (JSON.parse(json) as { nftables?: Record<string, Record<string, unknown>>[] }).nftables ?? [];
  for (const item of items) {
    if (item.set?.table === l.table) {
      // No spread into push(): a set can hold more elements than a call has argument slots.
      for (const e of parseElements(String(item.set.name), item.set.elem)) elements.push(e);
      continue;
    }
    const r = item.rule;
    if (!r || r.table !== l.table) continue;
    const chain = String(r.chain);
    const kind = kindOf.get(chain);
    const rule = kind && parseChainRule(kind, r.expr, r.comment);
    if (rule && typeof r.handle === "number") rules.push({ rule, chain, handle: r.handle });
  }
  return { elements, rules };
}
