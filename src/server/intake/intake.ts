/**
 * The intake seam: every capture mode (UDP server now; pcap, TCP and HTTP later) turns what it
 * receives into Candidates and hands them to the pipeline one by one. An intake never judges a
 * payload beyond what its transport imposes (e.g. the 1500-byte datagram limit).
 */

/** One payload that might be an SPA packet, with the addressing the server saw. */
export interface Candidate {
  payload: Buffer;
  srcIp: string;
  srcPort: number;
  /** `0.0.0.0` in UDP-server mode, as upstream records it (the socket is bound to any). */
  dstIp: string;
  dstPort: number;
  /** IP protocol number: TCP 6, UDP 17, ICMP 1. */
  proto: 6 | 17 | 1;
  /** Milliseconds since the epoch, taken when the payload was read. */
  receivedAt: number;
}

export interface Intake {
  /** Short label for logs, e.g. `udp:62201`. */
  readonly name: string;
  /**
   * Resolves once the intake listens; `onCandidate` is then called for every payload. It answers
   * with a promise while the packet's processing waits (a file intake waits for it), else
   * undefined.
   */
  start(onCandidate: CandidateHandler): Promise<void>;
  /** Stops listening; no `onCandidate` call happens after it resolves. */
  stop(): Promise<void>;
  /** Payloads handed on, and payloads the intake itself discarded (oversize, malformed). */
  readonly stats?: { received: number; dropped: number };
  /**
   * Packets the kernel dropped before we could read them: the UDP socket's buffer overflows
   * (/proc/net/udp{,6}) or the capture's drops (tcpdump); undefined while unknown.
   */
  kernelDrops?(): number | undefined;
}

/** What an intake hands each payload to (Daemon): a promise only while processing waits. */
export type CandidateHandler = (c: Candidate) => Promise<void> | undefined;
