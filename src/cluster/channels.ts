/**
 * What the cluster reports for metrics subscribers (diagnostics_channel, like the decision and
 * rule channels): link state changes and fan-out outcomes. Publishing costs nothing without a
 * subscriber.
 */
import diagnostics_channel from "node:diagnostics_channel";

/** `{ role: string, up: boolean }` when a link to the store comes up or goes down. */
export const clusterLinkChannel = diagnostics_channel.channel("fwknop:cluster:link");

/**
 * `{ outcome }` per fan-out message: published, applied, own, expired, forged, invalid
 * (FanoutCounts keys).
 */
export const fanoutChannel = diagnostics_channel.channel("fwknop:cluster:fanout");
