/**
 * ENABLE_TCP_SERVER (spec §12.6): a dummy server on TCPSERV_PORT that accepts connections and
 * closes them after a second. Its only job is to let `fwknop -P tcp` (and `-P http`) complete a
 * handshake and send; the SPA data itself is read by the pcap intake, never from this socket.
 * Unlike the sniffed SPA port, this port must be let through the firewall.
 */
import { createServer, type Server, type Socket } from "node:net";
import { FwknopError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";

export interface DummyTcpServerOptions {
  port: number;
  /** Default 0.0.0.0, as upstream binds. */
  host?: string;
  log: Logger;
  /** How long an accepted connection stays open (default 1000 ms, upstream's sleep(1)). */
  holdMs?: number;
  /** Connections held at once; more are closed at once so a flood cannot exhaust sockets. */
  maxHeld?: number;
}

export interface DummyTcpServer {
  /** The bound port (useful with port 0); 0 before start. */
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createDummyTcpServer(opts: DummyTcpServerOptions): DummyTcpServer {
  const host = opts.host ?? "0.0.0.0";
  const held = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const onConnection = (s: Socket) => {
    // Read and discard what the client sends, so closing sends a FIN, not a reset.
    s.on("error", () => {});
    s.resume();
    if (held.size >= (opts.maxHeld ?? 64)) {
      s.destroy();
      return;
    }
    held.add(s);
    const timer = setTimeout(() => s.end(), opts.holdMs ?? 1000);
    s.once("close", () => {
      clearTimeout(timer);
      held.delete(s);
    });
  };

  return {
    get port() {
      return port;
    },
    async start() {
      if (server) throw new FwknopError("FWK_ERR_INTERNAL", "TCP server already started");
      const srv = createServer(onConnection);
      await new Promise<void>((resolve, reject) => {
        srv.once("error", (e) => {
          const msg = `Cannot listen on TCP ${host}:${opts.port}: ${e.message}`;
          reject(new FwknopError("FWK_ERR_TCP_SERVER_BIND", msg, { cause: e }));
        });
        srv.listen({ port: opts.port, host }, () => resolve());
      });
      srv.on("error", (e) => opts.log.error(`TCP server error: ${e.message}`));
      server = srv;
      const addr = srv.address();
      port = typeof addr === "object" && addr ? addr.port : opts.port;
      opts.log.info(`Kicking off TCP server to listen on port ${port}.`);
    },
    stop() {
      const srv = server;
      server = undefined;
      for (const s of held) s.destroy();
      if (!srv) return Promise.resolve();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}
