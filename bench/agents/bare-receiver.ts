/**
 * The bare-socket baseline for the junk capacity figure: the least a Node.js program can do
 * with a datagram — a dgram socket on the SPA port, the same 32 MiB receive buffer our daemon
 * asks for, and a counter. Runs inside the server namespace in place of a daemon.
 *   node dist/bench/agents/bare-receiver.js '{"port":62201}'
 * Prints "ready" once bound; on SIGTERM prints {"received":N} and exits.
 */
import dgram from "node:dgram";

const { port } = JSON.parse(process.argv[2] ?? "{}") as { port: number };
let received = 0;
const sock = dgram.createSocket("udp4");
sock.on("message", () => {
  received++;
});
sock.bind(port, "0.0.0.0", () => {
  try {
    sock.setRecvBufferSize(32 * 1024 * 1024);
  } catch {
    // Capped by net.core.rmem_max: the daemon gets the same cap.
  }
  process.stdout.write("ready\n");
});
process.once("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ received })}\n`);
  process.exit(0);
});
