/**
 * Classic pcap (the format `tcpdump -w` writes) as a stream: global header, records, and the
 * link/IP/transport headers down to the payload an SPA packet travels in (spec §12.5). Pure: no
 * I/O, never throws on hostile bytes; problems come back as values.
 *
 * Deliberate differences from upstream's process_packet: the IPv4 header length is the real IHL
 * (upstream masks it with 0x15, mis-reading options), the link layer is taken from the link type
 * rather than guessed from bytes 12–13, IPv6 is understood, and fragments are skipped (a
 * fragment's payload is not the datagram's).
 */
import ipaddr from "ipaddr.js";

/** LINKTYPE_* values this reader understands (tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  EN10MB: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface PcapHeader {
  littleEndian: boolean;
  /** Record timestamps carry nanoseconds (magic a1b23c4d) instead of microseconds. */
  nanosecond: boolean;
  snaplen: number;
  linkType: number;
}

export interface PcapRecord {
  /** Capture time, milliseconds since the epoch. */
  time: number;
  /** Length of the packet on the wire (the record may hold less, cut at the snap length). */
  origLen: number;
  data: Buffer;
}

/** libpcap refuses savefile records larger than this; anything bigger means a corrupt stream. */
const MAX_RECORD = 262_144;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Incremental parser: feed it chunks as they arrive (a pipe splits records anywhere) and it
 * returns the complete records. A bad magic or an absurd record length puts it in a failed state
 * (`error` set) because the stream cannot be resynchronised; later input is then ignored.
 */
export class PcapStreamParser {
  #buf: Buffer = Buffer.alloc(0);
  #header: PcapHeader | undefined;
  #error: string | undefined;

  get header(): PcapHeader | undefined {
    return this.#header;
  }

  get error(): string | undefined {
    return this.#error;
  }

  /** Bytes held back: the start of a record (or header) whose rest has not arrived. */
  get pendingBytes(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): PcapRecord[] {
    if (this.#error !== undefined) return [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: PcapRecord[] = [];
    let at = 0;
    if (!this.#header) {
      if (this.#buf.length < GLOBAL_HEADER) return out;
      const h = parseGlobalHeader(this.#buf);
      if (typeof h === "string") return this.#fail(h);
      this.#header = h;
      at = GLOBAL_HEADER;
    }
    const h = this.#header;
    const u32 = (o: number) =>
      h.littleEndian ? this.#buf.readUInt32LE(o) : this.#buf.readUInt32BE(o);
    while (this.#buf.length - at >= RECORD_HEADER) {
      const caplen = u32(at + 8);
      if (caplen > MAX_RECORD) {
        return this.#fail(`record of ${caplen} bytes exceeds ${MAX_RECORD}: corrupt stream`, out);
      }
      if (this.#buf.length - at - RECORD_HEADER < caplen) break;
      const frac = u32(at + 4);
      out.push({
        time: u32(at) * 1000 + (h.nanosecond ? frac / 1e6 : frac / 1e3),
        origLen: u32(at + 12),
        data: this.#buf.subarray(at + RECORD_HEADER, at + RECORD_HEADER + caplen),
      });
      at += RECORD_HEADER + caplen;
    }
    this.#buf = this.#buf.subarray(at);
    return out;
  }

  #fail(why: string, records: PcapRecord[] = []): PcapRecord[] {
    this.#error = why;
    this.#buf = Buffer.alloc(0);
    return records;
  }
}

function parseGlobalHeader(b: Buffer): PcapHeader | string {
  const magics: Record<number, { nanosecond: boolean }> = {
    2712847316: { nanosecond: false },
    2712812621: { nanosecond: true },
  };
  const le = magics[b.readUInt32LE(0)];
  const be = magics[b.readUInt32BE(0)];
  const kind = le ?? be;
  if (!kind) {
    if (b.readUInt32BE(0) === 0x0a0d0d0a) {
      return "this is a pcapng file; only classic pcap is read (convert it with: tcpdump -r IN -w OUT)";
    }
    return `not a pcap stream (magic 0x${b.readUInt32BE(0).toString(16).padStart(8, "0")})`;
  }
  const littleEndian = le !== undefined;
  const u32 = (o: number) => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
  // The top bits of the link-type word may carry FCS information; the type is the low 16 bits.
  return {
    littleEndian,
    nanosecond: kind.nanosecond,
    snaplen: u32(16),
    linkType: u32(20) & 0xffff,
  };
}

/** What a frame carried, with the addressing the pipeline logs and matches on. */
export interface IpPacket {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: 6 | 17 | 1;
  /** A copy, so a retained payload does not pin the capture buffer it came from. */
  payload: Buffer;
}

/** Not an error: a frame with nothing for us (ARP, another protocol, an empty TCP segment). */
export interface Ignored {
  ignored: string;
}

/** A frame we should have been able to read but could not (cut short, fragment, bad header). */
export interface Malformed {
  malformed: string;
}

export function decodeFrame(linkType: number, frame: Buffer): IpPacket | Ignored | Malformed {
  const net = networkStart(linkType, frame);
  if ("ignored" in net || "malformed" in net) return net;
  const ip = frame.subarray(net.offset);
  const version = ip.length > 0 ? (ip[0] ?? 0) >> 4 : 0;
  if (net.family !== undefined && version !== net.family) {
    return { malformed: `link layer announced IPv${net.family}, header says version ${version}` };
  }
  if (version === 4) return ipv4(ip);
  if (version === 6) return ipv6(ip);
  return ip.length === 0
    ? { malformed: "no network header" }
    : { ignored: `IP version ${version}` };
}

type NetStart = { offset: number; family: 4 | 6 | undefined } | Ignored | Malformed;

const ETHERTYPE_FAMILY: Record<number, 4 | 6> = { 2048: 4, 34525: 6 };
const VLAN_TYPES = new Set([0x8100, 0x88a8, 0x9100]);
/** BSD address-family values for IPv4 and IPv6 in NULL/LOOP headers (IPv6 differs by OS). */
const AF_FAMILY: Record<number, 4 | 6> = { 2: 4, 10: 6, 24: 6, 28: 6, 30: 6 };

function networkStart(linkType: number, f: Buffer): NetStart {
  const need = (n: number): Malformed | undefined =>
    f.length < n
      ? { malformed: `frame of ${f.length} bytes is shorter than its link header` }
      : undefined;
  switch (linkType) {
    case LINKTYPE.EN10MB:
      return need(14) ?? byEthertype(f, 12);
    case LINKTYPE.LINUX_SLL:
      return need(16) ?? byEthertype(f, 14);
    case LINKTYPE.LINUX_SLL2: {
      const short = need(20);
      if (short) return short;
      const family = ETHERTYPE_FAMILY[f.readUInt16BE(0)];
      return family
        ? { offset: 20, family }
        : { ignored: `protocol 0x${f.readUInt16BE(0).toString(16)}` };
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      const short = need(4);
      if (short) return short;
      // LOOP is network order; NULL is the capturing host's order, so take whichever is small.
      const le = f.readUInt32LE(0);
      const af = linkType === LINKTYPE.LOOP || le > 0xffff ? f.readUInt32BE(0) : le;
      const family = AF_FAMILY[af];
      return family ? { offset: 4, family } : { ignored: `address family ${af}` };
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return { offset: 0, family: undefined };
    default:
      return { ignored: `link type ${linkType}` };
  }
}

/** Ethernet-style type field at `typeAt`, skipping up to two VLAN tags and an LLC/SNAP header. */
function byEthertype(f: Buffer, typeAt: number): NetStart {
  let at = typeAt;
  for (let tags = 0; tags < 2 && at + 6 <= f.length && VLAN_TYPES.has(f.readUInt16BE(at)); tags++) {
    at += 4;
  }
  let type = f.readUInt16BE(at);
  let offset = at + 2;
  // A value ≤ 1500 is an 802.3 length: only LLC/SNAP (AA AA 03, OUI, type) carries IP.
  if (type <= 1500) {
    if (f.length < offset + 8 || f.readUIntBE(offset, 3) !== 0xaaaa03) {
      return { ignored: "802.3 frame without SNAP" };
    }
    type = f.readUInt16BE(offset + 6);
    offset += 8;
  }
  const family = ETHERTYPE_FAMILY[type];
  return family ? { offset, family } : { ignored: `ethertype 0x${type.toString(16)}` };
}

function ipv4(ip: Buffer): IpPacket | Ignored | Malformed {
  if (ip.length < 20) return { malformed: "IPv4 header cut short" };
  const hdr = ((ip[0] ?? 0) & 0x0f) * 4;
  const total = ip.readUInt16BE(2);
  if (hdr < 20 || total < hdr) return { malformed: `IPv4 header length ${hdr}, total ${total}` };
  if (ip.length < total)
    return { malformed: `IPv4 packet of ${total} bytes captured as ${ip.length}` };
  if ((ip.readUInt16BE(6) & 0x3fff) !== 0) return { malformed: "IPv4 fragment" };
  const addr = (o: number) => `${ip[o]}.${ip[o + 1]}.${ip[o + 2]}.${ip[o + 3]}`;
  // total, not the captured length: Ethernet padding and FCS bytes follow the packet.
  return transport(ip[9] ?? 0, ip.subarray(hdr, total), addr(12), addr(16), true);
}

/** Extension headers with the generic (next header, length in 8-byte units) layout. */
const IPV6_SKIPPABLE = new Set([0, 43, 60]);
const MAX_IPV6_EXTENSIONS = 8;

function ipv6(ip: Buffer): IpPacket | Ignored | Malformed {
  if (ip.length < 40) return { malformed: "IPv6 header cut short" };
  const end = 40 + ip.readUInt16BE(4);
  if (end === 40) return { ignored: "IPv6 without payload (or a jumbogram)" };
  if (ip.length < end) return { malformed: `IPv6 packet of ${end} bytes captured as ${ip.length}` };
  let next = ip[6] ?? 0;
  let at = 40;
  for (let n = 0; n < MAX_IPV6_EXTENSIONS && IPV6_SKIPPABLE.has(next); n++) {
    if (at + 2 > end) return { malformed: "IPv6 extension header cut short" };
    next = ip[at] ?? 0;
    at += ((ip[at + 1] ?? 0) + 1) * 8;
  }
  if (at > end) return { malformed: "IPv6 extension header runs past the packet" };
  if (next === 44) return { malformed: "IPv6 fragment" };
  const addr = (o: number) => ipaddr.fromByteArray([...ip.subarray(o, o + 16)]).toString();
  return transport(next, ip.subarray(at, end), addr(8), addr(24), false);
}

function transport(
  proto: number,
  l4: Buffer,
  srcIp: string,
  dstIp: string,
  v4: boolean,
): IpPacket | Ignored | Malformed {
  const kind = proto === 17 ? 17 : proto === 6 ? 6 : proto === 1 && v4 ? 1 : undefined;
  let start: number;
  switch (kind) {
    case 17:
      if (l4.length < 8) return { malformed: "UDP header cut short" };
      start = 8;
      break;
    case 6:
      if (l4.length < 20) return { malformed: "TCP header cut short" };
      start = ((l4[12] ?? 0) >> 4) * 4;
      if (start < 20 || start > l4.length) return { malformed: `TCP data offset ${start}` };
      break;
    case 1:
      // Upstream takes whatever follows the 8-byte ICMP header, whatever the type.
      if (l4.length < 8) return { malformed: "ICMP header cut short" };
      start = 8;
      break;
    default:
      return { ignored: `IP protocol ${proto}` };
  }
  if (start === l4.length) return { ignored: "no payload" };
  return {
    srcIp,
    dstIp,
    srcPort: kind === 1 ? 0 : l4.readUInt16BE(0),
    dstPort: kind === 1 ? 0 : l4.readUInt16BE(2),
    proto: kind,
    payload: Buffer.from(l4.subarray(start)),
  };
}
