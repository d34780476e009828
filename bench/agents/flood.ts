/**
 * Sends pre-built packets over UDP from inside a namespace, paced, for the crash suite:
 *   node dist/bench/agents/flood.js HOST PORT RATE FILE   (FILE: one wire string per line)
 * Prints "sent N" when done. Runs as its own process so the test can SIGKILL the daemon
 * while the flood is still arriving.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";

const [host, port, rate, file] = process.argv.slice(2);
const packets = readFileSync(file as string, "utf8")
  .split("\n")
  .filter(Boolean);
const perTick = Math.max(1, Math.round(Number(rate) / 100));
const sock = dgram.createSocket("udp4");
// With nobody listening on the SPA port (the daemon sniffs in pcap mode), the kernel answers
// with ICMP port-unreachable, which a connected socket reports as an error: not ours to handle.
sock.on("error", () => {});
let i = 0;
const timer = setInterval(() => {
  for (let n = 0; n < perTick && i < packets.length; n++, i++) {
    sock.send(packets[i] as string, Number(port), host as string);
  }
  if (i >= packets.length) {
    clearInterval(timer);
    setTimeout(() => {
      process.stdout.write(`sent ${i}\n`);
      sock.close();
    }, 100);
  }
}, 10);
