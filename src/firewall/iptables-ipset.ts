/**
 * The ipset side of the iptables backend's ENABLE_IPT_IPSET mode: INPUT access grants become
 * set entries with a kernel timeout (and the `_exp_<ts>` marker as the entry comment), matched
 * by one static rule per set in the INPUT chain. The kernel expires entries itself, so access
 * closes on time even if the daemon dies; lookups are a hash probe instead of a chain walk.
 */
import type { Rule } from "./rule.js";
import { EXPIRE_COMMENT_PREFIX, expireComment } from "./rules.js";
import type { ChainSpec } from "./settings.js";

/** Grants to any local address, and grants restricted to one destination (ENABLE_DESTINATION_RULE). */
export interface IpsetNames {
  any: string;
  dst: string;
  /** ipset's address family: a set holds IPv4 or IPv6 elements, never both. */
  family: "inet" | "inet6";
}

/**
 * Set names follow the INPUT chain; IPv6 sets get a `6` suffix because ipset names are global
 * to both families (the ip6tables chain keeps the IPv4 chain's name).
 */
export function ipsetNames(input: ChainSpec, family: "inet" | "inet6" = "inet"): IpsetNames {
  const six = family === "inet6" ? "6" : "";
  return { any: `${input.toChain}${six}`, dst: `${input.toChain}_DST${six}`, family };
}

/** Largest timeout the kernel accepts for a set entry (seconds). */
const MAX_TIMEOUT = 2_147_483;

/** `create` lines for both sets; -exist makes them idempotent. */
export function createSetLines(names: IpsetNames): string[] {
  const opts = `family ${names.family} timeout 0 comment maxelem 1048576`;
  return [
    `create ${names.any} hash:ip,port ${opts}`,
    `create ${names.dst} hash:ip,port,ip ${opts}`,
  ];
}

/** The static INPUT-chain matches (arguments after `-A <chain>`). */
export function setMatchArgs(names: IpsetNames, target: string): string[][] {
  return [
    ["-m", "set", "--match-set", names.any, "src,dst", "-j", target],
    ["-m", "set", "--match-set", names.dst, "src,dst,dst", "-j", target],
  ];
}

const PLAIN_IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** A single IPv6 address (no prefix length), as Node and ip6tables print them. */
const PLAIN_IPV6 = /^[0-9a-f:.]*:[0-9a-f:.]*$/i;

function isAnyDst(dst: string | undefined): boolean {
  return dst === undefined || dst === "0.0.0.0/0" || dst === "::/0";
}

/** Only plain INPUT access rules fit a set; everything else stays a chain rule. */
export function fitsSet(r: Rule): boolean {
  const host = r.src !== undefined && PLAIN_IPV6.test(r.src) ? PLAIN_IPV6 : PLAIN_IPV4;
  return (
    r.chain === "input" &&
    r.proto !== undefined &&
    r.dport !== undefined &&
    r.sport === undefined &&
    r.src !== undefined &&
    host.test(r.src) &&
    (isAnyDst(r.dst) || host.test(r.dst ?? ""))
  );
}

function element(names: IpsetNames, r: Rule): { set: string; elem: string } {
  const base = `${r.src},${r.proto}:${r.dport}`;
  if (isAnyDst(r.dst)) return { set: names.any, elem: base };
  return { set: names.dst, elem: `${base},${r.dst}` };
}

/** Same set element, whatever the expiry: an `add -exist` then just updates timeout and comment. */
export function elementKey(names: IpsetNames, r: Rule): string {
  const { set, elem } = element(names, r);
  return `${set} ${elem}`;
}

export function addLine(names: IpsetNames, r: Rule, nowSec: number): string {
  const { set, elem } = element(names, r);
  const timeout = Math.min(MAX_TIMEOUT, Math.max(1, r.expiresAt - Math.floor(nowSec)));
  return `add ${set} ${elem} timeout ${timeout} comment "${expireComment(r.expiresAt)}"`;
}

export function delLine(names: IpsetNames, r: Rule): string {
  const { set, elem } = element(names, r);
  return `del ${set} ${elem}`;
}

/** `ip,proto:port[,ip]` with IPv4 or IPv6 addresses (neither contains a comma or a space). */
const MEMBER =
  /^([0-9a-f:.]+),(tcp|udp):(\d+)(?:,([0-9a-f:.]+))?(?=\s|$).*?(?:comment "([^"]*)")?\s*$/i;

/** Entries of `ipset list <set>` output as rules; entries without our marker are skipped. */
export function parseSetList(text: string): Rule[] {
  const rules: Rule[] = [];
  const members = text.split("\nMembers:\n")[1] ?? "";
  for (const line of members.split("\n")) {
    const m = MEMBER.exec(line.trim());
    const comment = m?.[5];
    if (!m || !comment?.startsWith(EXPIRE_COMMENT_PREFIX)) continue;
    const expiresAt = Number(comment.slice(EXPIRE_COMMENT_PREFIX.length));
    if (!Number.isSafeInteger(expiresAt)) continue;
    const rule: Rule = {
      chain: "input",
      proto: m[2] as "tcp" | "udp",
      src: m[1] as string,
      dport: Number(m[3]),
      expiresAt,
      via: "ipset",
    };
    if (m[4] !== undefined) rule.dst = m[4];
    rules.push(rule);
  }
  return rules;
}
