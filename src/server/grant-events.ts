/**
 * What happened to a grant once the pipeline decided it, published on diagnostics_channel for
 * observers (metrics) that must not sit in the packet path: a subscriber only counts.
 */
import diagnostics_channel from "node:diagnostics_channel";
import type { FirewallBackend, Rule } from "../firewall/backend.js";
import { describeRule, ruleKey } from "../firewall/rules.js";
import { logEvent } from "../log/event.js";
import type { Logger } from "../log/logger.js";

/** `{ receivedAt, committedAt }`: the grant's rules are in the firewall. */
export const grantCommittedChannel = diagnostics_channel.channel("fwknop:grant:committed");
/** The ledger could not apply a grant's rules (FWK_ERR_FW_APPLY). */
export const grantFailedChannel = diagnostics_channel.channel("fwknop:grant:failed");

/** Every rule the ledger put into the firewall: `{ rule, chain }` (metrics subscribe). */
export const ruleAddedChannel = diagnostics_channel.channel("fwknop:fw:rule-added");
/** Every rule the ledger took out: `{ rule, chain, replaced }` (a refresh replaced it). */
export const ruleRemovedChannel = diagnostics_channel.channel("fwknop:fw:rule-removed");

/** Every batch the ledger sends to the backend: `{ seconds, rules, ok }`. */
export const batchChannel = diagnostics_channel.channel("fwknop:fw:batch");

export interface GrantCommitted {
  /** Milliseconds since the epoch: when the knock was read, and when its rules were in place. */
  receivedAt: number;
  committedAt: number;
}

export function publishGrantCommitted(e: GrantCommitted): void {
  if (grantCommittedChannel.hasSubscribers) grantCommittedChannel.publish(e);
}

export function publishGrantFailed(): void {
  if (grantFailedChannel.hasSubscribers) grantFailedChannel.publish({});
}

/** `tcp/22,udp/53`: the access spec as log lines and events show it. */
export function formatPorts(ports: readonly { proto: string; port: number }[]): string {
  return ports.map((p) => `${p.proto}/${p.port}`).join(",");
}

/** Starts timing a firewall batch of `rules` changes; call the result with its success. */
export function batchTimer(rules: number): (ok: boolean) => void {
  const started = performance.now();
  return (ok) => {
    if (!batchChannel.hasSubscribers) return;
    batchChannel.publish({ seconds: (performance.now() - started) / 1000, rules, ok });
  };
}

/** The ledger's grant.added / grant.removed line, with who, what, until when, and which rule. */
export function logRuleEvent(log: Logger, event: string, message: string, r: Rule): void {
  const ip = r.note?.clientIp ?? r.src;
  const ports = r.note?.spec ?? (r.proto && r.dport ? `${r.proto}/${r.dport}` : undefined);
  logEvent(log, {
    level: "info",
    event,
    message,
    ...(ip ? { srcIp: ip } : {}),
    ...(ports ? { ports } : {}),
    expiry: r.expiresAt,
    grantId: ruleKey(r),
  });
}

/** The ledger put `r` into the firewall: upstream's "Added … rule to …" line, and the channel. */
export function logRuleAdded(
  log: Logger,
  backend: Pick<FirewallBackend, "chainName">,
  r: Rule,
): void {
  const chain = backend.chainName(r.chain);
  const n = r.note;
  const what = n
    ? `${n.kind} rule to ${chain} for ${n.clientIp} -> ${n.dst} ${n.spec}`
    : `rule to ${chain} for ${describeRule(r)}`;
  logRuleEvent(log, "grant.added", `Added ${what}, expires at ${r.expiresAt}`, r);
  if (ruleAddedChannel.hasSubscribers) ruleAddedChannel.publish({ rule: r, chain });
}

/** The ledger took `r` out, in the batch that put `added` in. */
export function logRuleRemoved(
  log: Logger,
  backend: Pick<FirewallBackend, "chainName">,
  r: Rule,
  added: readonly Rule[],
): void {
  const chain = backend.chainName(r.chain);
  const key = ruleKey(r);
  // A refreshed grant replaces its rule; that is not an expiry worth an info line.
  const replaced = added.some((a) => ruleKey(a) === key);
  if (ruleRemovedChannel.hasSubscribers) ruleRemovedChannel.publish({ rule: r, chain, replaced });
  const line = `Removed rule from ${chain} with expire time of ${r.expiresAt} (${describeRule(r)})`;
  if (replaced) log.debug(`${line}, replaced by a later expiry`);
  else logRuleEvent(log, "grant.removed", line, r);
}
