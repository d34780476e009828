/** A datagram as the UDP intake hands it on, for tests whose packet content does not matter. */
import type { Candidate } from "../../src/server/intake/intake.js";

export function udpCandidate(over: Partial<Candidate> = {}): Candidate {
  return {
    payload: Buffer.alloc(0),
    srcIp: "198.18.0.9",
    srcPort: 40000,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    proto: 17,
    receivedAt: 1_000_000,
    ...over,
  };
}
