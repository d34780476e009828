/**
 * Pure rule building: which rules a grant creates (spec §11.1.3), the iptables argument list of
 * each (§11.1.2 templates, protocol numbers, `_exp_<ts>` comment) and rule identity for dedupe.
 */
import { hasNatField, isLocalNatType } from "../protocol/constants.js";
import type { ChainKind, Proto, Rule, RuleNote } from "./rule.js";
import type { ChainSpec, FirewallSettings } from "./settings.js";

export interface GrantRequest {
  /** Effective client IP (spec §8 step 16). */
  clientIp: string;
  /** The SPA packet's destination address (used with ENABLE_DESTINATION_RULE). */
  packetDstIp: string;
  ports: readonly { proto: Proto; port: number }[];
  messageType: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  /** NAT target from the message (already resolved to an IPv4 address). */
  nat?: { ip: string; port: number };
  /** Seconds (spec §8 step 13). */
  timeout: number;
  stanza: {
    forceSnat?: string;
    forceMasquerade: boolean;
    disableDnat: boolean;
    forwardAll: boolean;
    forceNat?: { ip: string; port: number };
  };
}

export const EXPIRE_COMMENT_PREFIX = "_exp_";

/** iptables rules carry the protocol as a number, as upstream writes them. */
export const PROTO_NUMBER = { tcp: 6, udp: 17 } as const satisfies Record<Proto, number>;

const ANY = "0.0.0.0/0";
const ANY6 = "::/0";

/** "Any address" in the client's family: an IPv6 grant's rules go to ip6tables. */
export function anyAddressFor(ip: string): string {
  return isIpv6Text(ip) ? ANY6 : ANY;
}

/** IPv6 text (with or without a prefix length); IPv4 text never contains a colon. */
export function isIpv6Text(addr: string): boolean {
  return addr.includes(":");
}

/**
 * The rules one granted SPA request creates, each expiring at now + timeout (Unix seconds).
 * Rules for chains that are not active are not produced.
 */
export function rulesForGrant(req: GrantRequest, settings: FirewallSettings, now: number): Rule[] {
  const expiresAt = Math.floor(now) + req.timeout;
  const dst = settings.destinationRule ? req.packetDstIp : anyAddressFor(req.clientIp);
  const ip = req.clientIp;
  const specText = req.ports.map((p) => `${p.proto}/${p.port}`).join(",");
  const note = (kind: string): RuleNote => ({ kind, clientIp: ip, dst, spec: specText });
  const active = (k: ChainKind) => settings.chains[k] !== undefined;
  const rules: Rule[] = [];

  const natTarget = req.stanza.forceNat ?? req.nat;
  if (!hasNatField(req.messageType) && !req.stanza.forceNat) {
    for (const { proto, port } of req.ports) {
      rules.push({
        chain: "input",
        proto,
        src: ip,
        dst,
        dport: port,
        expiresAt,
        note: note("access"),
      });
      if (active("output")) {
        rules.push({
          chain: "output",
          proto,
          src: dst,
          dst: ip,
          sport: port,
          expiresAt,
          note: note("OUTPUT"),
        });
      }
    }
    return rules;
  }

  const first = req.ports[0];
  if (!natTarget || !first) return rules;
  const { ip: natIp, port: natPort } = natTarget;
  const all = req.stanza.forwardAll;
  const local = isLocalNatType(req.messageType);

  if (local) {
    rules.push({
      chain: "input",
      proto: first.proto,
      src: ip,
      dst,
      dport: natPort,
      expiresAt,
      note: note("local NAT"),
    });
  } else if (active("forward")) {
    rules.push(
      all
        ? { chain: "forward", src: ip, expiresAt, note: note("FORWARD ALL") }
        : {
            chain: "forward",
            proto: first.proto,
            src: ip,
            dport: natPort,
            expiresAt,
            note: note("FORWARD"),
          },
    );
  }
  if (active("dnat") && !req.stanza.disableDnat) {
    rules.push(
      all
        ? { chain: "dnat", src: ip, dst, toDestination: natIp, expiresAt, note: note("DNAT ALL") }
        : {
            chain: "dnat",
            proto: first.proto,
            src: ip,
            dst,
            dport: first.port,
            toDestination: `${natIp}:${natPort}`,
            expiresAt,
            note: note("DNAT"),
          },
    );
  }
  if (req.stanza.forceSnat !== undefined || settings.snat) {
    const snatIp = req.stanza.forceSnat ?? settings.snatTranslateIp;
    const rule: Rule = all
      ? snatIp !== undefined
        ? { chain: "snat", src: ip, toSource: snatIp, expiresAt, note: note("SNAT ALL") }
        : { chain: "masquerade", src: ip, expiresAt, note: note("SNAT ALL") }
      : {
          chain: "masquerade",
          proto: first.proto,
          dst: natIp,
          dport: natPort,
          toPorts: first.port,
          expiresAt,
          note: note("SNAT"),
        };
    if (!all) {
      // Specific SNAT: a forced SNAT address wins, then FORCE_MASQUERADE, then SNAT_TRANSLATE_IP.
      const source =
        req.stanza.forceSnat ?? (req.stanza.forceMasquerade ? undefined : settings.snatTranslateIp);
      if (source !== undefined) {
        rule.chain = "snat";
        rule.toSource = source;
        delete rule.toPorts;
      }
    }
    if (active(rule.chain)) rules.push(rule);
  }
  return rules;
}

/** The `_exp_<ts>` comment value of a rule. */
export function expireComment(expiresAt: number): string {
  return `${EXPIRE_COMMENT_PREFIX}${expiresAt}`;
}

/**
 * The §11.1.2 arguments of a rule after `-A <chain>` (without `-t <table>`, which
 * iptables-restore does not accept; single commands prepend it themselves).
 */
export function ruleArgs(rule: Rule, chain: ChainSpec): string[] {
  const args: string[] = [];
  if (rule.proto) args.push("-p", String(PROTO_NUMBER[rule.proto]));
  // OUTPUT rules name the client as destination first, as upstream's template does.
  const addrs: [string, string | undefined][] =
    rule.chain === "output"
      ? [
          ["-d", rule.dst],
          ["-s", rule.src],
        ]
      : [
          ["-s", rule.src],
          ["-d", rule.dst],
        ];
  for (const [flag, value] of addrs) if (value !== undefined) args.push(flag, value);
  if (rule.dport !== undefined) args.push("--dport", String(rule.dport));
  if (rule.sport !== undefined) args.push("--sport", String(rule.sport));
  args.push("-m", "comment", "--comment", expireComment(rule.expiresAt), "-j", chain.target);
  if (rule.toDestination !== undefined) args.push("--to-destination", rule.toDestination);
  if (rule.toSource !== undefined) args.push("--to-source", rule.toSource);
  if (rule.toPorts !== undefined) args.push("--to-ports", String(rule.toPorts));
  return args;
}

/**
 * iptables prints `/32` hosts and omits `0.0.0.0/0` (ip6tables: `/128`, `::/0`); identity must not
 * depend on either.
 */
function normAddr(a: string | undefined): string {
  if (a === undefined || a === ANY || a === ANY6) return "";
  return hostAddress(a);
}

/** `a.b.c.d/32` and `x::y/128` (as the tools list hosts) without the host prefix length. */
export function hostAddress(a: string): string {
  return a.replace(isIpv6Text(a) ? /\/128$/ : /\/32$/, "");
}

/** Rule identity: everything but the expiry (and log/location metadata). */
export function ruleKey(r: Rule): string {
  return [
    r.chain,
    r.proto ?? "",
    normAddr(r.src),
    normAddr(r.dst),
    r.dport ?? "",
    r.sport ?? "",
    r.toDestination ?? "",
    r.toSource ?? "",
    r.toPorts ?? "",
  ].join("|");
}

/** Short human description for log lines, e.g. `198.18.0.2 -> 0.0.0.0/0 tcp/22`. */
export function describeRule(r: Rule): string {
  const port = r.dport ?? r.sport;
  const what = r.proto ? `${r.proto}/${port ?? "*"}` : "all";
  const to =
    r.toDestination ?? r.toSource ?? (r.toPorts !== undefined ? `port ${r.toPorts}` : undefined);
  return `${r.src ?? ANY} -> ${r.dst ?? ANY} ${what}${to !== undefined ? ` to ${to}` : ""}`;
}
