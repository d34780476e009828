/**
 * UDP-server intake (`-U`, ENABLE_UDP_SERVER; spec §12.6): one datagram is one candidate.
 * Like upstream, the destination is recorded as 0.0.0.0 (the socket listens on any address)
 * and nothing is ever sent back.
 *
 * The receive buffer is raised well above the 208 KiB default so a flood of junk (tens of
 * thousands of packets per second) queues in the kernel instead of pushing out valid knocks
 * while the pipeline is busy.
 */
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { FwknopError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import type { Candidate, CandidateHandler, Intake } from "./intake.js";

/** Upstream reads at most this much per datagram; larger ones cannot be SPA packets. */
export const MAX_DATAGRAM = 1500;
const DEFAULT_RECV_BUFFER = 32 * 1024 * 1024;

export interface UdpIntakeOptions {
  port: number;
  /**
   * Default 0.0.0.0; an IPv6 address (e.g. "::") gives a dual-stack socket. A host without IPv6
   * (EAFNOSUPPORT) falls back from "::" to 0.0.0.0.
   */
  host?: string;
  /** Wanted SO_RCVBUF in bytes (default 32 MiB); the kernel caps it at net.core.rmem_max. */
  recvBufferBytes?: number;
  log: Logger;
}

export interface UdpIntake extends Intake {
  /** The bound port (useful with port 0); 0 before start. */
  readonly port: number;
  readonly stats: { received: number; dropped: number };
  /**
   * Datagrams the kernel discarded because the receive buffer was full (the `drops` column of
   * /proc/net/udp{,6} for our port); undefined before start or without /proc.
   */
  kernelDrops(): number | undefined;
}

export function createUdpIntake(opts: UdpIntakeOptions): UdpIntake {
  const stats = { received: 0, dropped: 0 };
  let socket: Socket | undefined;
  let port = 0;

  return {
    get name() {
      return `udp:${port || opts.port}`;
    },
    get port() {
      return port;
    },
    stats,
    async start(onCandidate: CandidateHandler): Promise<void> {
      if (socket) throw new FwknopError("FWK_ERR_INTERNAL", "UDP intake already started");
      const s = await bindUdp(opts.host ?? "0.0.0.0", opts.port, opts.log);
      socket = s;
      port = s.address().port;
      s.on("error", (e) => opts.log.error(`UDP server socket error: ${e.message}`));
      raiseReceiveBuffer(s, opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER, opts.log);
      const failed = (srcIp: string, e: unknown) =>
        opts.log.error(`Error handling a datagram from ${srcIp}: ${(e as Error).message}`);
      s.on("message", (payload, rinfo) => {
        if (socket !== s) return;
        if (payload.length > MAX_DATAGRAM) {
          stats.dropped++;
          return;
        }
        stats.received++;
        const mapped = rinfo.address.startsWith("::ffff:") && rinfo.address.includes(".");
        const srcIp = mapped ? rinfo.address.slice(7) : rinfo.address;
        const candidate: Candidate = {
          payload,
          srcIp,
          srcPort: rinfo.port,
          dstIp: rinfo.family === "IPv6" && !mapped ? "::" : "0.0.0.0",
          dstPort: port,
          proto: 17,
          receivedAt: Date.now(),
        };
        // A failing handler is a bug, but one hostile packet must not take the daemon down.
        try {
          onCandidate(candidate)?.catch((e: unknown) => failed(srcIp, e));
        } catch (e) {
          failed(srcIp, e);
        }
      });
    },
    kernelDrops(): number | undefined {
      return socket ? readKernelDrops(port) : undefined;
    },
    stop(): Promise<void> {
      const s = socket;
      socket = undefined;
      if (!s) return Promise.resolve();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

/** A bound socket; "::" is dual-stack, and falls back to 0.0.0.0 where IPv6 is unavailable. */
async function bindUdp(host: string, port: number, log: Logger): Promise<Socket> {
  const s = createSocket({ type: host.includes(":") ? "udp6" : "udp4", ipv6Only: false });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind({ port, address: host }, () => {
        s.off("error", reject);
        resolve();
      });
    });
    return s;
  } catch (e) {
    s.close();
    if (host === "::" && (e as NodeJS.ErrnoException).code === "EAFNOSUPPORT") {
      log.info("IPv6 is not available on this host; the UDP server listens on IPv4 only.");
      return bindUdp("0.0.0.0", port, log);
    }
    const msg = `Cannot listen on UDP ${host}:${port}: ${(e as Error).message}`;
    throw new FwknopError("FWK_ERR_INTAKE_BIND", msg, { cause: e });
  }
}

/**
 * Linux caps SO_RCVBUF at net.core.rmem_max and reports double the granted size (the kernel
 * keeps half for bookkeeping), so the figure logged is what was actually obtained.
 */
function raiseReceiveBuffer(s: Socket, wanted: number, log: Logger): void {
  try {
    s.setRecvBufferSize(wanted);
  } catch (e) {
    log.warn(`Could not set the UDP receive buffer to ${wanted} bytes: ${(e as Error).message}`);
  }
  let got = 0;
  try {
    got = s.getRecvBufferSize();
  } catch {
    return;
  }
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  if (got < wanted) {
    log.info(
      `UDP receive buffer is ${mb(got)} (asked for ${mb(wanted)}; raise net.core.rmem_max to ` +
        "absorb larger packet floods).",
    );
  } else {
    log.info(`UDP receive buffer is ${mb(got)}.`);
  }
}

/** Sums the `drops` column of the sockets bound to `port` in /proc/net/udp and udp6. */
function readKernelDrops(port: number): number | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let total: number | undefined;
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (!cols[1]?.endsWith(suffix)) continue;
      total = (total ?? 0) + Number(cols.at(-1));
    }
  }
  return total;
}
