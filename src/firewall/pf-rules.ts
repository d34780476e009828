/**
 * Pure pieces of the pf backend (spec §11.3): the anchor rule line fwknopd 2.6.10 writes for an
 * access grant, and `pfctl -a <anchor> -s rules` output read back into rules. pf takes IPv4 and
 * IPv6 addresses in the same rule syntax, so one anchor serves both families.
 */
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";
import type { Proto, Rule } from "./backend.js";
import { expireComment, hostAddress, PROTO_NUMBER } from "./rules.js";
import type { FirewallSettings } from "./settings.js";

export interface PfSettings {
  /** PF_ANCHOR_NAME: the anchor our rules live in; the admin links it into pf.conf. */
  anchor: string;
  /** PF_EXPIRE_INTERVAL: range-checked as upstream, otherwise unused (expiry follows `_exp_`). */
  expireInterval: number;
}

/** What the pf backend is built from: the shared settings plus its own. */
export interface PfBackendSettings extends FirewallSettings {
  pf?: PfSettings;
}

export const DEFAULT_PF_SETTINGS: Readonly<PfSettings> = { anchor: "fwknop", expireInterval: 30 };

/** Upstream caps the anchor name at 63 characters; pf anchors are path-like names. */
const ANCHOR_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,62}$/;

export function pfSettingsFromConfig(cfg: ServerConfig): PfSettings {
  const anchor = cfg.get("PF_ANCHOR_NAME") ?? DEFAULT_PF_SETTINGS.anchor;
  if (!ANCHOR_NAME.test(anchor)) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${cfg.where("PF_ANCHOR_NAME")}: Invalid PF_ANCHOR_NAME '${anchor}'`,
    );
  }
  return { anchor, expireInterval: cfg.int("PF_EXPIRE_INTERVAL") };
}

/** "Any address" in pf syntax, as upstream writes the destination of a non-destination rule. */
const PF_ANY = "any";

function isAny(addr: string | undefined): boolean {
  return addr === undefined || addr === "0.0.0.0/0" || addr === "::/0" || addr === PF_ANY;
}

/**
 * The 2.6.10 anchor line of an access rule:
 * `pass in quick proto <num> from <IP> to <DST|any> port <port> keep state label _exp_<EXP>`.
 * Only INPUT access exists in pf (upstream logs NAT as unsupported); other kinds are refused.
 */
export function pfRuleLine(r: Rule): string {
  if (r.chain !== "input" || r.proto === undefined || r.dport === undefined || !r.src) {
    throw new FwknopError(
      "FWK_ERR_FW_CHAIN_INACTIVE",
      `pf supports access rules only (proto, source, port), not a ${r.chain} rule`,
    );
  }
  const to = isAny(r.dst) ? PF_ANY : (r.dst as string);
  return [
    "pass in quick proto",
    PROTO_NUMBER[r.proto],
    "from",
    r.src,
    "to",
    to,
    "port",
    r.dport,
    "keep state label",
    expireComment(r.expiresAt),
  ].join(" ");
}

const PROTO_NAMES: Record<string, Proto> = { tcp: "tcp", "6": "tcp", udp: "udp", "17": "udp" };

/**
 * One anchor line back into a rule. pfctl prints what we loaded normalised
 * (`proto tcp`, `port = 22`, `flags S/SA`, `label "_exp_…"`); both forms are read. Lines without
 * the `_exp_` label are not ours and stay untouched.
 */
export function parsePfLine(line: string): Rule | undefined {
  const m =
    /^pass in quick (?:on \S+ )?(?:inet6? )?proto (\S+) from (\S+) to (\S+) port (?:= )?(\d+)\b.*\blabel "?_exp_(\d+)"?/.exec(
      line.trim(),
    );
  if (!m) return undefined;
  const [, protoText, src, dst, port, exp] = m;
  const proto = PROTO_NAMES[protoText ?? ""];
  if (!proto || src === undefined || dst === undefined) return undefined;
  const rule: Rule = {
    chain: "input",
    proto,
    src: hostAddress(src),
    dport: Number(port),
    expiresAt: Number(exp),
    via: "chain",
  };
  if (!isAny(dst)) rule.dst = hostAddress(dst);
  return rule;
}
