/**
 * Minimal classic-pcap writer (microsecond magic a1b2c3d4, LINKTYPE_ETHERNET) producing
 * Ethernet/IPv4/UDP frames, so that tests can feed hand-built SPA packets to
 * `fwknopd --pcap-file`. IPv4 header checksums are real; UDP checksums are 0 (allowed in IPv4).
 */

export interface UdpFrame {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  /** Capture time in Unix seconds (default 0). */
  time?: number;
}

const LINKTYPE_ETHERNET = 1;

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not a dotted IPv4 address: ${ip}`);
  }
  return Buffer.from(parts);
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet frame carrying an IPv4/UDP datagram. */
export function udpFrame(f: UdpFrame, ipId = 0): Buffer {
  const eth = Buffer.alloc(14);
  Buffer.from("020000000002", "hex").copy(eth, 0); // destination MAC (locally administered)
  Buffer.from("020000000001", "hex").copy(eth, 6); // source MAC
  eth.writeUInt16BE(0x0800, 12);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(f.srcPort, 0);
  udp.writeUInt16BE(f.dstPort, 2);
  udp.writeUInt16BE(8 + f.payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + f.payload.length, 2);
  ip.writeUInt16BE(ipId & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 17;
  ipv4Bytes(f.srcIp).copy(ip, 12);
  ipv4Bytes(f.dstIp).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  return Buffer.concat([eth, ip, udp, f.payload]);
}

/** A complete pcap file holding `frames` in order. */
export function pcapFile(frames: readonly UdpFrame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const records = frames.map((f, i) => {
    const frame = udpFrame(f, i + 1);
    const rec = Buffer.alloc(16);
    const t = f.time ?? 0;
    rec.writeUInt32LE(Math.floor(t), 0);
    rec.writeUInt32LE(Math.round((t % 1) * 1e6), 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    return Buffer.concat([rec, frame]);
  });
  return Buffer.concat([header, ...records]);
}
