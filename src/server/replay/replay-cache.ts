/**
 * The replay-cache seam (spec §8 steps 6 and 11, §12.1). The default implementation is the
 * upstream-compatible `digest.cache` file (file-cache.ts); a shared cluster store (Redis) slots
 * in behind the same interface, which is why every call is async.
 */

/** What the server remembers about one accepted packet; one `digest.cache` line. */
export interface ReplayEntry {
  /** Unpadded base64 SHA-256 of the wire string (43 characters). */
  digest: string;
  /** IP protocol number the packet came in on (17 UDP, 6 TCP, 1 ICMP). */
  proto: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** Unix seconds when the digest was recorded. */
  time: number;
}

/**
 * The pipeline looks a digest up before any crypto (or, when every stanza verifies an HMAC first,
 * as soon as one did, so junk costs no digest) and claims
 * it only once the packet authenticated (C fwknopd's rule: junk never burns a digest, so two
 * identical junk packets in flight are both refused for what they are, not as replays).
 */
export interface ReplayCache {
  lookup(digest: string): Promise<ReplayEntry | undefined>;
  /**
   * Atomic check-and-insert: remembers `entry` unless its digest is already remembered, and
   * answers with the entry that was there first (undefined: this call recorded it). Of two
   * copies of one packet claimed at the same time, in one process or across a cluster, exactly
   * one gets undefined. Persistence failures are logged, never thrown.
   */
  claim(entry: ReplayEntry): Promise<ReplayEntry | undefined>;
  /** Number of digests currently remembered. */
  readonly size: number;
  /** Finishes pending writes and releases the store. */
  close(): Promise<void>;
}

/** `mm/dd/yy HH:MM:SS` in local time, the "Entry created" format of the upstream replay log. */
export function formatEntryTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${two(d.getMonth() + 1)}/${two(d.getDate())}/${two(d.getFullYear() % 100)} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

/** The upstream log line for a replayed packet (spec §12.1); operators' filters match it. */
export function replayDetectedMessage(
  packet: { srcIp: string; proto: number; dstPort: number },
  original: ReplayEntry,
): string {
  return (
    `Replay detected from source IP: ${packet.srcIp}, ` +
    `Destination proto/port: ${packet.proto}/${packet.dstPort}, ` +
    `Original source IP: ${original.srcIp}, ` +
    `Original dst proto/port: ${original.proto}/${original.dstPort}, ` +
    `Entry created: ${formatEntryTime(original.time)}`
  );
}
