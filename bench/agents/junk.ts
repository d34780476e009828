/**
 * Runs inside the client namespace: floods the SPA port with junk for `seconds` at `rate`
 * packets/s. Junk is random base64 text of SPA-like length (150–300 characters), so it passes
 * the cheap size and charset checks and costs the daemon an HMAC check, as hostile noise would.
 * argv[2] is a JSON JunkJob; prints one JSON line with the achieved rate.
 */
import { randomBytes, randomInt } from "node:crypto";
import dgram from "node:dgram";
import { pace } from "./pace.js";

export interface JunkJob {
  host: string;
  port: number;
  rate: number;
  seconds: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as JunkJob;
const pool = Array.from({ length: 4096 }, () =>
  Buffer.from(randomBytes(300).toString("base64").replace(/=+$/, "").slice(0, randomInt(150, 301))),
);
const sock = dgram.createSocket("udp4");
// With nobody listening on the SPA port (the daemon sniffs in pcap mode), the kernel answers
// with ICMP port-unreachable, which a connected socket reports as an error: not ours to handle.
sock.on("error", () => {});
sock.bind(0, () => {
  sock.setSendBufferSize(8 * 1024 * 1024);
  sock.connect(job.port, job.host, async () => {
    const count = Math.round(job.rate * job.seconds);
    const r = await pace(count, job.rate, (i) => sock.send(pool[i & 4095] as Buffer), 1024);
    setTimeout(() => {
      process.stdout.write(
        `${JSON.stringify({ ...r, achievedRate: Math.round(r.sent / (r.elapsedMs / 1000)) })}\n`,
      );
      sock.close();
    }, 200);
  });
});
