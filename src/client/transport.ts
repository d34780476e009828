/**
 * Sending the SPA wire string (spec §7.1, §7.3): one UDP datagram (default), one TCP write, an
 * HTTP GET (directly or through a proxy), or a hand-built IPv4 packet for the raw modes (through
 * the optional raw-socket module). IPv6 destinations work for udp, tcp and http.
 */

import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP, Socket } from "node:net";
import { FwknopError } from "../errors.js";
import { buildRawPacket, type RawMode } from "./raw-packet.js";
import { sendRawPacket } from "./raw-send.js";
import type { SpaProtocol } from "./settings.js";

/**
 * The HTTP User-Agent stays the 2.6.10 client's: fwknopd only accepts HTTP SPA requests whose
 * agent contains "Fwknop", and proxies or filters in the path may match the exact string.
 */
export const DEFAULT_USER_AGENT = "Fwknop/2.6.10";

export interface SendTarget {
  proto: SpaProtocol;
  /** Host name or address as given with -D. */
  host: string;
  port: number;
  /** 0 lets the OS choose. */
  sourcePort: number;
  ipv4Only: boolean;
  userAgent?: string;
  /** `host[:port]` of -H, optional `http://` prefix. */
  httpProxy?: string;
  timeoutMs?: number;
  /** Raw modes: source address (-Q), else 0.0.0.0 for the kernel to fill in. */
  spoofSource?: string;
  /** Raw modes: source port when -S is not given (10000–65534 from the random value). */
  rawSourcePort: number;
  icmpType: number;
  icmpCode: number;
}

function sendError(msg: string): FwknopError {
  return new FwknopError("FWK_ERR_CLIENT_SEND", msg);
}

/** -D resolution: IPv4 only with --server-resolve-ipv4, otherwise whatever the resolver prefers. */
export async function resolveHost(
  host: string,
  ipv4Only: boolean,
): Promise<{ address: string; family: 4 | 6 }> {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const fam = isIP(literal);
  if (fam === 4 || fam === 6) {
    if (ipv4Only && fam === 6)
      throw new FwknopError(
        "FWK_ERR_CLIENT_RESOLVE",
        `[*] ${host} is an IPv6 address but --server-resolve-ipv4 is set`,
      );
    return { address: literal, family: fam };
  }
  try {
    const r = await lookup(literal, ipv4Only ? { family: 4 } : {});
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch {
    // 2.6.10's getaddrinfo() wording, then ours.
    throw new FwknopError(
      "FWK_ERR_CLIENT_RESOLVE",
      `error in getaddrinfo: Name or service not known ([*] Unable to resolve ${host} as an ip address)`,
    );
  }
}

function sendUdp(address: string, family: 4 | 6, t: SendTarget, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(family === 6 ? "udp6" : "udp4");
    sock.once("error", (e) => {
      sock.close();
      reject(sendError(`send_spa_packet_udp: ${e.message}`));
    });
    const go = () =>
      sock.send(payload, t.port, address, (err, bytes) => {
        sock.close();
        if (err) reject(sendError(`send_spa_packet_udp: ${err.message}`));
        else resolve(bytes);
      });
    if (t.sourcePort > 0) sock.bind(t.sourcePort, go);
    else go();
  });
}

function sendTcp(address: string, port: number, t: SendTarget, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        sendError(
          `send_spa_packet_tcp: no connection to ${address} port ${port} within ${t.timeoutMs ?? 5000} ms`,
        ),
      );
    }, t.timeoutMs ?? 5000);
    sock.once("error", (e) => {
      clearTimeout(timer);
      reject(sendError(`send_spa_packet_tcp: ${e.message}`));
    });
    sock.connect(
      { host: address, port, ...(t.sourcePort > 0 ? { localPort: t.sourcePort } : {}) },
      () => {
        sock.end(payload, () => {
          clearTimeout(timer);
          resolve(payload.length);
        });
      },
    );
  });
}

/**
 * The HTTP request carrying the SPA data (base64 made URL-safe with `-` and `_`). Through a
 * proxy the request line names the server and, as in 2.6.10, `Host:` names the proxy.
 */
export function httpRequest(
  wire: string,
  server: string,
  userAgent: string,
  proxyHost?: string,
): string {
  const data = wire.replaceAll("+", "-").replaceAll("/", "_");
  const target = proxyHost === undefined ? `/${data}` : `http://${server}/${data}`;
  const host = proxyHost ?? server;
  return `GET ${target} HTTP/1.0\r\nUser-Agent: ${userAgent}\r\nAccept: */*\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

/** `-H host[:port]` (optional `http://`): the proxy's host and port. */
export function parseProxy(spec: string, defaultPort: number): { host: string; port: number } {
  const bare = spec.replace(/^http:\/\//i, "").replace(/\/.*$/, "");
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(bare) ?? /^([^:]+)(?::(.*))?$/.exec(bare);
  const host = m?.[1] ?? bare;
  const portText = m?.[2];
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d+$/.test(portText) ? Number(portText) : 0;
  if (port < 1 || port > 65535)
    throw sendError("[-] proxy port value is invalid, must be in [1-65535]");
  return { host, port };
}

const RAW_MODES: ReadonlySet<SpaProtocol> = new Set(["udpraw", "tcpraw", "icmp"]);

export function isRawMode(p: SpaProtocol): boolean {
  return RAW_MODES.has(p);
}

/** Sends the wire string; resolves to the number of payload bytes handed to the kernel. */
export async function sendSpa(wire: string, t: SendTarget): Promise<number> {
  if (isRawMode(t.proto)) {
    const dst = await resolveHost(t.host, true);
    const packet = buildRawPacket({
      mode: t.proto as RawMode,
      src: t.spoofSource ?? "0.0.0.0",
      dst: dst.address,
      srcPort: t.sourcePort > 0 ? t.sourcePort : t.rawSourcePort,
      dstPort: t.port,
      payload: Buffer.from(wire, "latin1"),
      ipId: randomInt(0, 0x10000),
      icmpType: t.icmpType,
      icmpCode: t.icmpCode,
      icmpId: randomInt(0, 0x10000),
    });
    await sendRawPacket(t.proto, packet, dst.address);
    return wire.length;
  }
  const payload = Buffer.from(wire, "latin1");
  if (t.proto === "http") {
    const ua = t.userAgent ?? DEFAULT_USER_AGENT;
    if (t.httpProxy !== undefined) {
      const proxy = parseProxy(t.httpProxy, t.port);
      const dst = await resolveHost(proxy.host, t.ipv4Only);
      const req = Buffer.from(httpRequest(wire, t.host, ua, proxy.host));
      await sendTcp(dst.address, proxy.port, t, req);
      return req.length;
    }
    const dst = await resolveHost(t.host, t.ipv4Only);
    const req = Buffer.from(httpRequest(wire, t.host, ua));
    await sendTcp(dst.address, t.port, t, req);
    return req.length;
  }
  const dst = await resolveHost(t.host, t.ipv4Only);
  if (t.proto === "tcp") return sendTcp(dst.address, t.port, t, payload);
  return sendUdp(dst.address, dst.family, t, payload);
}
