/**
 * What happened to a grant once the pipeline decided it, published on diagnostics_channel for
 * observers (metrics) that must not sit in the packet path: a subscriber only counts.
 */
import diagnostics_channel from "node:diagnostics_channel";

/** `{ receivedAt, committedAt, backend }`: the grant's rules are in the firewall. */
export const grantCommittedChannel = diagnostics_channel.channel("fwknop:grant:committed");
/** `{ backend }`: the ledger could not apply the grant's rules (FWK_ERR_FW_APPLY). */
export const grantFailedChannel = diagnostics_channel.channel("fwknop:grant:failed");

export interface GrantCommitted {
  /** Milliseconds since the epoch: when the knock was read, and when its rules were in place. */
  receivedAt: number;
  committedAt: number;
  backend: string;
}

export function publishGrantCommitted(e: GrantCommitted): void {
  if (grantCommittedChannel.hasSubscribers) grantCommittedChannel.publish(e);
}

export function publishGrantFailed(backend: string): void {
  if (grantFailedChannel.hasSubscribers) grantFailedChannel.publish({ backend });
}
