/**
 * Hand-built IPv4 packets for the raw transports (spec §7.1): udpraw (IP + UDP, checksum 0),
 * tcpraw (IP + TCP SYN, seq 1, window 32767, checksum left 0) and icmp (IP + ICMP with its
 * checksum; echo requests carry a random id and sequence 1). TTL 255 as upstream. Pure.
 */

import { isIPv4 } from "node:net";
import { FwknopError } from "../errors.js";

export type RawMode = "udpraw" | "tcpraw" | "icmp";

export interface RawPacketSpec {
  mode: RawMode;
  /** Dotted IPv4; 0.0.0.0 lets the kernel fill in the source address. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  ipId: number;
  icmpType: number;
  icmpCode: number;
  icmpId: number;
}

const IP_PROTO: Readonly<Record<RawMode, number>> = { udpraw: 17, tcpraw: 6, icmp: 1 };

/** RFC 1071 Internet checksum. */
export function inetChecksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4Bytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new FwknopError("FWK_ERR_CLIENT_SEND", `not an IPv4 address: ${ip}`);
  return Buffer.from(ip.split(".").map(Number));
}

function transportHeader(s: RawPacketSpec): Buffer {
  if (s.mode === "udpraw") {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(s.srcPort, 0);
    h.writeUInt16BE(s.dstPort, 2);
    h.writeUInt16BE(8 + s.payload.length, 4);
    return h;
  }
  if (s.mode === "tcpraw") {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(s.srcPort, 0);
    h.writeUInt16BE(s.dstPort, 2);
    h.writeUInt32BE(1, 4);
    h[12] = 5 << 4;
    h[13] = 0x02;
    h.writeUInt16BE(32767, 14);
    return h;
  }
  const h = Buffer.alloc(8);
  h[0] = s.icmpType;
  h[1] = s.icmpCode;
  if (s.icmpType === 8 && s.icmpCode === 0) {
    h.writeUInt16BE(s.icmpId & 0xffff, 4);
    h.writeUInt16BE(1, 6);
  }
  h.writeUInt16BE(inetChecksum(Buffer.concat([h, s.payload])), 2);
  return h;
}

export function buildRawPacket(s: RawPacketSpec): Buffer {
  const l4 = Buffer.concat([transportHeader(s), s.payload]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(s.ipId & 0xffff, 4);
  ip[8] = 255;
  ip[9] = IP_PROTO[s.mode];
  ipv4Bytes(s.src).copy(ip, 12);
  ipv4Bytes(s.dst).copy(ip, 16);
  ip.writeUInt16BE(inetChecksum(ip), 10);
  return Buffer.concat([ip, l4]);
}
