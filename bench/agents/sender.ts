/**
 * Runs inside the client namespace: builds `count` distinct valid knocks (allow-IPs
 * 198.18.64.0/18 from index `first`), then sends them over UDP at `rate` per second.
 * Encoding happens before the clock starts so the offered rate is what the daemon sees.
 * argv[2] is a JSON SenderJob; prints one JSON PaceResult line.
 */
import dgram from "node:dgram";
import { type BenchKeys, grantIp, makeKnock } from "../../test/helpers/bench-knock.js";
import { pace } from "./pace.js";

export interface SenderJob {
  host: string;
  port: number;
  keys: BenchKeys;
  hiddenPort: number;
  first: number;
  count: number;
  rate: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as SenderJob;
const packets = Array.from({ length: job.count }, (_, i) =>
  Buffer.from(makeKnock(job.keys, { allowIp: grantIp(job.first + i), port: job.hiddenPort })),
);
const sock = dgram.createSocket("udp4");
// With nobody listening on the SPA port (the daemon sniffs in pcap mode), the kernel answers
// with ICMP port-unreachable, which a connected socket reports as an error: not ours to handle.
sock.on("error", () => {});
// A large send buffer so bursts are limited by the pacing, not by EAGAIN on our side.
sock.bind(0, () => {
  sock.setSendBufferSize(4 * 1024 * 1024);
  sock.connect(job.port, job.host, async () => {
    const r = await pace(job.count, job.rate, (i) => sock.send(packets[i] as Buffer));
    // Let queued datagrams leave before closing.
    setTimeout(() => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      sock.close();
    }, 200);
  });
});
