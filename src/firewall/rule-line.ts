/**
 * One `iptables -S <chain>` line back into a rule: shared by the iptables backend and firewalld's
 * passthrough mode (`firewall-cmd --direct --passthrough ipv4 -S` prints the same text).
 */
import type { ChainKind, Rule } from "./rule.js";
import { EXPIRE_COMMENT_PREFIX, hostAddress } from "./rules.js";

/** Lines without our `_exp_` marker are skipped. */
export function parseRuleLine(line: string, chain: string, kind: ChainKind): Rule | undefined {
  const tokens = line.trim().split(/\s+/);
  if (tokens[0] !== "-A" || tokens[1] !== chain) return undefined;
  const rule: Rule = { chain: kind, expiresAt: Number.NaN, via: "chain" };
  for (let i = 2; i < tokens.length; i++) {
    const value = tokens[i + 1];
    switch (tokens[i]) {
      case "-p":
        if (value === "tcp" || value === "6") rule.proto = "tcp";
        else if (value === "udp" || value === "17") rule.proto = "udp";
        else return undefined;
        break;
      case "-s":
        if (value !== undefined) rule.src = hostAddress(value);
        break;
      case "-d":
        if (value !== undefined) rule.dst = hostAddress(value);
        break;
      case "--dport":
        rule.dport = Number(value);
        break;
      case "--sport":
        rule.sport = Number(value);
        break;
      case "--to-destination":
        if (value !== undefined) rule.toDestination = value;
        break;
      case "--to-source":
        if (value !== undefined) rule.toSource = value;
        break;
      case "--to-ports":
        rule.toPorts = Number(value);
        break;
      case "--comment": {
        const text = (value ?? "").replace(/^"|"$/g, "");
        if (text.startsWith(EXPIRE_COMMENT_PREFIX))
          rule.expiresAt = Number(text.slice(EXPIRE_COMMENT_PREFIX.length));
        break;
      }
      default:
        continue;
    }
    i++;
  }
  return Number.isSafeInteger(rule.expiresAt) ? rule : undefined;
}
