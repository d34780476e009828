/**
 * Pure pieces of the ipfw backend (spec §11.4): the settings, the argv of every ipfw command
 * fwknopd 2.6.10 runs (FreeBSD syntax), `ipfw list` output read back, and rule-number allocation
 * in the window IPFW_START_RULE_NUM … +IPFW_MAX_RULES−1.
 */
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";
import type { Proto, Rule } from "./backend.js";
import { expireComment, hostAddress, isIpv6Text, PROTO_NUMBER } from "./rules.js";
import type { FirewallSettings } from "./settings.js";

export interface IpfwSettings {
  startRuleNum: number;
  maxRules: number;
  /** IPFW_ACTIVE_SET_NUM: the set our live rules are added to. */
  activeSet: number;
  /** IPFW_EXPIRE_SET_NUM: disabled set that holds expired rules while their dynamic state lives. */
  expireSet: number;
  /** IPFW_EXPIRE_PURGE_INTERVAL in seconds. */
  purgeInterval: number;
  /** IPFW_ADD_CHECK_STATE: a `check-state` rule ahead of the grants. */
  addCheckState: boolean;
}

/** What the ipfw backend is built from: the shared settings plus its own. */
export interface IpfwBackendSettings extends FirewallSettings {
  ipfw?: IpfwSettings;
}

export const DEFAULT_IPFW_SETTINGS: Readonly<IpfwSettings> = {
  startRuleNum: 10000,
  maxRules: 65535,
  activeSet: 1,
  expireSet: 2,
  purgeInterval: 30,
  addCheckState: false,
};

export function ipfwSettingsFromConfig(cfg: ServerConfig): IpfwSettings {
  const s: IpfwSettings = {
    startRuleNum: cfg.int("IPFW_START_RULE_NUM"),
    maxRules: cfg.int("IPFW_MAX_RULES"),
    activeSet: cfg.int("IPFW_ACTIVE_SET_NUM"),
    expireSet: cfg.int("IPFW_EXPIRE_SET_NUM"),
    purgeInterval: cfg.int("IPFW_EXPIRE_PURGE_INTERVAL"),
    addCheckState: cfg.bool("IPFW_ADD_CHECK_STATE"),
  };
  // Upstream's check: expired rules must not land back in the live set.
  if (s.activeSet > 0 && s.activeSet === s.expireSet) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${cfg.where("IPFW_EXPIRE_SET_NUM")}: Cannot set identical ipfw active and expire sets (IPFW_ACTIVE_SET_NUM, IPFW_EXPIRE_SET_NUM)`,
    );
  }
  return s;
}

/** Destination of a rule without ENABLE_DESTINATION_RULE: this host, in the client's family. */
function ipfwDst(r: Rule): string {
  const any = r.dst === undefined || r.dst === "0.0.0.0/0" || r.dst === "::/0";
  if (!any) return r.dst as string;
  return r.src !== undefined && isIpv6Text(r.src) ? "me6" : "me";
}

/**
 * `add <num> set <active> pass <proto> from <IP> to <DST|me> dst-port <port> setup keep-state //
 * _exp_<EXP>` (2.6.10 splits on blanks, so `//` and the marker are arguments of their own).
 */
export function ipfwAddArgs(num: number, r: Rule, s: IpfwSettings): string[] {
  if (r.chain !== "input" || r.proto === undefined || r.dport === undefined || !r.src) {
    throw new FwknopError(
      "FWK_ERR_FW_CHAIN_INACTIVE",
      `ipfw supports access rules only (proto, source, port), not a ${r.chain} rule`,
    );
  }
  return [
    "add",
    String(num),
    "set",
    String(s.activeSet),
    "pass",
    String(PROTO_NUMBER[r.proto]),
    "from",
    r.src,
    "to",
    ipfwDst(r),
    "dst-port",
    String(r.dport),
    "setup",
    "keep-state",
    "//",
    expireComment(r.expiresAt),
  ];
}

export const ipfwArgs = {
  checkState: (num: number, s: IpfwSettings) => [
    "add",
    String(num),
    "set",
    String(s.activeSet),
    "check-state",
  ],
  moveRule: (num: number, s: IpfwSettings) => [
    "set",
    "move",
    "rule",
    String(num),
    "to",
    String(s.expireSet),
  ],
  disableSet: (set: number) => ["set", "disable", String(set)],
  /** Live rules with their dynamic state (`-d`), static form (`-S`), last-match times (`-T`). */
  listActive: (s: IpfwSettings) => ["-d", "-S", "-T", "set", String(s.activeSet), "list"],
  listExpired: (s: IpfwSettings) => ["-S", "set", String(s.expireSet), "list"],
  listExpiredDynamic: (s: IpfwSettings) => ["-d", "set", String(s.expireSet), "list"],
  deleteFromSet: (set: number, num: number) => ["set", String(set), "delete", String(num)],
  deleteSet: (set: number) => ["delete", "set", String(set)],
} as const;

/** One static rule of a listing: its number and, when it carries `_exp_`, the rule. */
export interface IpfwListed {
  num: number;
  rule?: Rule;
  checkState: boolean;
}

const PROTOS: Record<string, Proto> = { tcp: "tcp", "6": "tcp", udp: "udp", "17": "udp" };

/**
 * `ipfw [-d] -S [-T] set N list` output: static rules (`10000 [ts] set 1 allow tcp from A to me
 * dst-port 22 setup keep-state // _exp_…`), then, with -d, `## Dynamic rules` and one line per
 * state, each starting with the number of the rule that created it.
 */
export function parseIpfwList(text: string): { rules: IpfwListed[]; dynamic: Set<number> } {
  const rules: IpfwListed[] = [];
  const dynamic = new Set<number>();
  let inDynamic = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("## Dynamic rules")) {
      inDynamic = true;
      continue;
    }
    const num = /^(\d+)\s/.exec(line);
    if (!num) continue;
    if (inDynamic) {
      dynamic.add(Number(num[1]));
      continue;
    }
    const body = /^\d+\s+(?:\d+\s+)*set\s+\d+\s+(.*)$/.exec(line)?.[1] ?? "";
    const entry: IpfwListed = { num: Number(num[1]), checkState: /^check-state\b/.test(body) };
    const m =
      /^(?:allow|pass|accept|permit)\s+(\S+)\s+from\s+(\S+)\s+to\s+(\S+)\s+dst-port\s+(\d+)\b.*\/\/\s*_exp_(\d+)/.exec(
        body,
      );
    const proto = PROTOS[m?.[1] ?? ""];
    if (m && proto) {
      const rule: Rule = {
        chain: "input",
        proto,
        src: hostAddress(m[2] as string),
        dport: Number(m[4]),
        expiresAt: Number(m[5]),
        via: "chain",
      };
      if (m[3] !== "me" && m[3] !== "me6" && m[3] !== "any") rule.dst = hostAddress(m[3] as string);
      entry.rule = rule;
    }
    rules.push(entry);
  }
  return { rules, dynamic };
}

/**
 * Free rule numbers for `count` new rules, lowest first, skipping numbers in use (live or still
 * waiting in the expire set). Fewer than `count` means the window is exhausted.
 */
export function freeRuleNumbers(
  s: IpfwSettings,
  used: ReadonlySet<number>,
  count: number,
): number[] {
  const free: number[] = [];
  const end = s.startRuleNum + s.maxRules;
  for (let n = s.startRuleNum; n < end && free.length < count; n++) if (!used.has(n)) free.push(n);
  return free;
}
