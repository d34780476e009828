/** An SPA packet as the server's intake would hand it on: a Candidate from our encoder. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { encodeSpa, type SpaMessage } from "../../src/protocol/spa.js";
import type { Candidate } from "../../src/server/intake/intake.js";

export interface KnockOptions {
  /** Unix seconds: the message timestamp and the receive time. */
  now: number;
  key: Buffer;
  hmac: Buffer;
  /** Message fields over the default access request for 198.18.0.2 tcp/22. */
  over?: Partial<SpaMessage>;
  dstIp?: string;
}

export function knockCandidate(o: KnockOptions): Candidate {
  const msg: SpaMessage = {
    randomValue: String(randomBytes(8).readBigUInt64BE() % 10n ** 16n).padStart(16, "1"),
    username: "alice",
    timestamp: o.now,
    version: "3.0.0",
    messageType: 1,
    message: "198.18.0.2,tcp/22",
    ...o.over,
  };
  const r = encodeSpa(
    msg,
    { encKey: o.key, encMode: "CBC", hmacKey: o.hmac, hmacType: "sha256" },
    { digestType: "sha256", salt: randomBytes(8) },
  );
  assert.ok(r.ok, r.ok ? "" : r.detail);
  return {
    payload: Buffer.from(r.value.wire),
    srcIp: "198.18.0.2",
    srcPort: 40000,
    dstIp: o.dstIp ?? "0.0.0.0",
    dstPort: 62201,
    proto: 17,
    receivedAt: o.now * 1000,
  };
}
