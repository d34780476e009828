/**
 * Tiny TCP tool run inside a namespace by the tests:
 *   listen PORT                  - accept connections, write "hello\n" to each, print "listening"
 *   connect HOST PORT TIMEOUT_MS - exit 0 if a connection is made within the timeout, else 1
 */
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
} else {
  process.stderr.write("usage: tcp-tool listen PORT | connect HOST PORT TIMEOUT_MS\n");
  process.exit(2);
}
