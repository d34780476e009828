/**
 * Tiny TCP tool run inside a namespace by the tests:
 *   listen PORT                  - accept connections, write "hello\n" to each, print "listening"
 *   connect HOST PORT TIMEOUT_MS - exit 0 if a connection is made within the timeout, else 1
 *   udp-send HOST[,HOST…] PORT TEXT - send TEXT as one UDP datagram to each host (replays a knock)
 */
import dgram from "node:dgram";
import net from "node:net";

const [mode, a, b, c] = process.argv.slice(2);
if (mode === "listen") {
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.end("hello\n");
  });
  server.listen(Number(a), () => process.stdout.write("listening\n"));
} else if (mode === "connect") {
  const sock = net.connect({ host: a as string, port: Number(b) });
  const timer = setTimeout(() => process.exit(1), Number(c));
  sock.on("connect", () => {
    clearTimeout(timer);
    process.exit(0);
  });
  sock.on("error", () => process.exit(1));
} else if (mode === "udp-send") {
  // HOST may be a comma-separated list: the same datagram to each, back to back (one packet
  // reaching several gateways of a cluster at the same moment).
  const hosts = (a as string).split(",");
  const sock = dgram.createSocket(a?.includes(":") ? "udp6" : "udp4");
  let left = hosts.length;
  let failed = false;
  for (const host of hosts) {
    sock.send(Buffer.from(c as string), Number(b), host, (err) => {
      failed ||= err !== null;
      if (--left > 0) return;
      sock.close();
      process.exit(failed ? 1 : 0);
    });
  }
} else {
  process.stderr.write(
    "usage: tcp-tool listen PORT | connect HOST PORT TIMEOUT_MS | udp-send HOST PORT TEXT\n",
  );
  process.exit(2);
}
