/**
 * Runs inside the client namespace: floods the SPA port with junk for `seconds` at `rate`
 * packets/s (a rate above what the sender reaches means "as fast as it can"). The packets are
 * of one shape from bench/lib/junk-shapes.ts (default `random-b64`), sent in batches of up to
 * 1,024 per event-loop turn so the sender, not its event loop, sets the pace.
 * argv[2] is a JSON JunkJob; prints one JSON line with the achieved rate.
 */
import dgram from "node:dgram";
import { junkPool, junkShape } from "../lib/junk-shapes.js";
import { pace } from "./pace.js";

export interface JunkJob {
  host: string;
  port: number;
  rate: number;
  seconds: number;
  shape?: string;
}

const job = JSON.parse(process.argv[2] ?? "{}") as JunkJob;
const pool = junkPool(junkShape(job.shape ?? "random-b64"), 4096);
const sock = dgram.createSocket("udp4");
// With nobody listening on the SPA port (the daemon sniffs in pcap mode), the kernel answers
// with ICMP port-unreachable, which a connected socket reports as an error: not ours to handle.
sock.on("error", () => {});
sock.bind(0, () => {
  sock.setSendBufferSize(8 * 1024 * 1024);
  sock.connect(job.port, job.host, async () => {
    const count = Math.round(job.rate * job.seconds);
    const r = await pace(count, job.rate, (i) => sock.send(pool[i & 4095] as Buffer), 1024, {
      maxMs: job.seconds * 1000,
    });
    setTimeout(() => {
      process.stdout.write(
        `${JSON.stringify({ ...r, achievedRate: Math.round(r.sent / (r.elapsedMs / 1000)) })}\n`,
      );
      sock.close();
    }, 200);
  });
});
