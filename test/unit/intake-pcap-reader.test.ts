/**
 * The pcap stream reader on hand-built bytes: both byte orders and timestamp resolutions, every
 * link type, IPv4 options (upstream's IHL bug must not be copied), IPv6, TCP/UDP/ICMP payloads,
 * records split anywhere, and garbage that must never throw.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  decodeFrame,
  type IpPacket,
  LINKTYPE,
  PcapStreamParser,
} from "../../src/server/intake/pcap-reader.js";
import { pcapFile, udpFrame } from "../helpers/pcap-writer.js";

const PAYLOAD = Buffer.from("A".repeat(180));

/** IPv4 header (+ `options` bytes, so IHL = 5 + options/4) around a transport segment. */
function ipv4(proto: number, l4: Buffer, options = Buffer.alloc(0), src = "198.18.0.2") {
  const h = Buffer.alloc(20);
  h[0] = 0x40 | (5 + options.length / 4);
  h.writeUInt16BE(20 + options.length + l4.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src.split(".").map(Number)).copy(h, 12);
  Buffer.from([198, 18, 0, 1]).copy(h, 16);
  return Buffer.concat([h, options, l4]);
}

function ipv6(next: number, rest: Buffer) {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(rest.length, 4);
  h[6] = next;
  h[7] = 64;
  Buffer.from("20010db8000000000000000000000002", "hex").copy(h, 8);
  Buffer.from("20010db8000000000000000000000001", "hex").copy(h, 24);
  return Buffer.concat([h, rest]);
}

function udp(payload: Buffer, src = 40000, dst = 62201) {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(src, 0);
  h.writeUInt16BE(dst, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** TCP segment with `extra` option bytes (data offset 5 + extra/4). */
function tcp(payload: Buffer, extra = 0) {
  const h = Buffer.alloc(20 + extra);
  h.writeUInt16BE(40001, 0);
  h.writeUInt16BE(62201, 2);
  h[12] = (5 + extra / 4) << 4;
  h[13] = 0x18;
  return Buffer.concat([h, payload]);
}

function icmp(payload: Buffer) {
  const h = Buffer.alloc(8);
  h[0] = 8;
  return Buffer.concat([h, payload]);
}

/** Ethernet II; each VLAN tag is its TPID in the type position followed by the tag (VLAN 5). */
const ether = (type: number, ip: Buffer, tpids: number[] = []) => {
  const chain = [...tpids, type].map((t, i) => {
    const b = Buffer.alloc(i < tpids.length ? 4 : 2);
    b.writeUInt16BE(t);
    if (i < tpids.length) b.writeUInt16BE(5, 2);
    return b;
  });
  return Buffer.concat([Buffer.alloc(12, 2), ...chain, ip]);
};

const sll = (type: number, ip: Buffer) => {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // packet to us
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, ip]);
};

const sll2 = (type: number, ip: Buffer) => {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(2, 4); // interface index
  h.writeUInt16BE(1, 8);
  h[11] = 6;
  return Buffer.concat([h, ip]);
};

const afHeader = (af: number, le: boolean, ip: Buffer) => {
  const h = Buffer.alloc(4);
  if (le) h.writeUInt32LE(af);
  else h.writeUInt32BE(af);
  return Buffer.concat([h, ip]);
};

/** A pcap stream with the given header flavour and raw frames. */
function pcapBytes(linkType: number, frames: Buffer[], le = true, nano = false, time = 1.5) {
  const w32 = (b: Buffer, v: number, o: number) =>
    le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o);
  const h = Buffer.alloc(24);
  w32(h, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  (le ? h.writeUInt16LE.bind(h) : h.writeUInt16BE.bind(h))(2, 4);
  (le ? h.writeUInt16LE.bind(h) : h.writeUInt16BE.bind(h))(4, 6);
  w32(h, 65535, 16);
  w32(h, linkType, 20);
  const recs = frames.map((f) => {
    const r = Buffer.alloc(16);
    w32(r, Math.floor(time), 0);
    w32(r, Math.round((time % 1) * (nano ? 1e9 : 1e6)), 4);
    w32(r, f.length, 8);
    w32(r, f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([h, ...recs]);
}

function decoded(linkType: number, frame: Buffer): IpPacket {
  const p = decodeFrame(linkType, frame);
  assert.ok("payload" in p, `expected a packet, got ${JSON.stringify(p)}`);
  return p;
}

describe("global header and records", () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      test(`${le ? "little" : "big"}-endian, ${nano ? "nano" : "micro"}second timestamps`, () => {
        const bytes = pcapBytes(LINKTYPE.RAW, [ipv4(17, udp(PAYLOAD))], le, nano, 1700000000.25);
        const p = new PcapStreamParser();
        const recs = p.push(bytes);
        assert.deepEqual(p.header, {
          littleEndian: le,
          nanosecond: nano,
          snaplen: 65535,
          linkType: 101,
        });
        assert.equal(recs.length, 1);
        assert.equal(recs[0]?.time, 1700000000250);
        assert.equal(p.pendingBytes, 0);
      });
    }
  }

  test("records split at every byte boundary come out whole and in order", () => {
    const frames = [1, 2, 3].map((i) =>
      udpFrame({
        srcIp: `198.18.0.${i}`,
        dstIp: "198.18.0.1",
        srcPort: i,
        dstPort: 62201,
        payload: PAYLOAD,
      }),
    );
    const bytes = pcapFile(
      frames.map((_, i) => ({
        srcIp: `198.18.0.${i + 1}`,
        dstIp: "198.18.0.1",
        srcPort: i + 1,
        dstPort: 62201,
        payload: PAYLOAD,
      })),
    );
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const p = new PcapStreamParser();
      const recs = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      assert.equal(recs.length, 3);
      assert.deepEqual(
        recs.map((r) => decoded(p.header?.linkType ?? -1, r.data).srcIp),
        ["198.18.0.1", "198.18.0.2", "198.18.0.3"],
      );
    }
  });

  test("a truncated last record is held back, not returned", () => {
    const bytes = pcapFile([
      { srcIp: "198.18.0.2", dstIp: "198.18.0.1", srcPort: 1, dstPort: 2, payload: PAYLOAD },
    ]);
    const p = new PcapStreamParser();
    assert.deepEqual(p.push(bytes.subarray(0, bytes.length - 10)), []);
    assert.equal(p.pendingBytes, bytes.length - 10 - 24);
    assert.equal(p.error, undefined);
  });

  test("pcapng and unknown magics are refused with a reason", () => {
    const ng = Buffer.alloc(28);
    ng.writeUInt32BE(0x0a0d0d0a, 0);
    const p = new PcapStreamParser();
    assert.deepEqual(p.push(ng), []);
    assert.match(p.error ?? "", /pcapng/);
    const q = new PcapStreamParser();
    q.push(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.match(q.error ?? "", /not a pcap stream/);
    assert.deepEqual(q.push(pcapFile([])), [], "a failed parser ignores later input");
  });

  test("an absurd record length fails the stream but keeps the records before it", () => {
    const good = pcapFile([
      { srcIp: "198.18.0.2", dstIp: "198.18.0.1", srcPort: 1, dstPort: 2, payload: PAYLOAD },
    ]);
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(0x7fffffff, 8);
    const p = new PcapStreamParser();
    assert.equal(p.push(Buffer.concat([good, bad])).length, 1);
    assert.match(p.error ?? "", /corrupt/);
  });

  test("random garbage never throws", () => {
    for (let i = 0; i < 300; i++) {
      const junk = randomBytes(1 + (i % 97) * 5);
      // Half the time behind a valid header, so record and frame parsing get the junk too.
      const bytes = i % 2 ? Buffer.concat([pcapFile([]).subarray(0, 24), junk]) : junk;
      const p = new PcapStreamParser();
      for (const r of p.push(bytes)) decodeFrame(p.header?.linkType ?? 1, r.data);
      for (const lt of Object.values(LINKTYPE)) decodeFrame(lt, junk);
    }
  });
});

describe("link types", () => {
  const ip = ipv4(17, udp(PAYLOAD));
  const ip6 = ipv6(17, udp(PAYLOAD));
  const cases: [string, number, Buffer, string][] = [
    ["EN10MB", LINKTYPE.EN10MB, ether(0x0800, ip), "198.18.0.2"],
    ["EN10MB with 802.1Q", LINKTYPE.EN10MB, ether(0x0800, ip, [0x8100]), "198.18.0.2"],
    ["EN10MB with QinQ", LINKTYPE.EN10MB, ether(0x0800, ip, [0x88a8, 0x8100]), "198.18.0.2"],
    ["EN10MB IPv6", LINKTYPE.EN10MB, ether(0x86dd, ip6), "2001:db8::2"],
    ["LINUX_SLL", LINKTYPE.LINUX_SLL, sll(0x0800, ip), "198.18.0.2"],
    ["LINUX_SLL2", LINKTYPE.LINUX_SLL2, sll2(0x0800, ip), "198.18.0.2"],
    ["LINUX_SLL2 IPv6", LINKTYPE.LINUX_SLL2, sll2(0x86dd, ip6), "2001:db8::2"],
    ["NULL little-endian", LINKTYPE.NULL, afHeader(2, true, ip), "198.18.0.2"],
    ["NULL big-endian", LINKTYPE.NULL, afHeader(2, false, ip), "198.18.0.2"],
    ["NULL IPv6 (FreeBSD AF 28)", LINKTYPE.NULL, afHeader(28, true, ip6), "2001:db8::2"],
    ["LOOP", LINKTYPE.LOOP, afHeader(2, false, ip), "198.18.0.2"],
    ["RAW IPv4", LINKTYPE.RAW, ip, "198.18.0.2"],
    ["RAW IPv6", LINKTYPE.RAW, ip6, "2001:db8::2"],
    ["IPV4", LINKTYPE.IPV4, ip, "198.18.0.2"],
    ["IPV6", LINKTYPE.IPV6, ip6, "2001:db8::2"],
  ];
  for (const [name, lt, frame, src] of cases) {
    test(`${name}: addresses, ports and payload`, () => {
      const p = decoded(lt, frame);
      assert.equal(p.srcIp, src);
      assert.equal(p.dstIp, src.includes(":") ? "2001:db8::1" : "198.18.0.1");
      assert.deepEqual([p.srcPort, p.dstPort, p.proto], [40000, 62201, 17]);
      assert.deepEqual(p.payload, PAYLOAD);
    });
  }

  test("LLC/SNAP-encapsulated IPv4 is read; other 802.3 frames are ignored", () => {
    const snap = Buffer.from([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(snap.length + ip.length);
    const frame = Buffer.concat([Buffer.alloc(12, 2), len, snap, ip]);
    assert.equal(decoded(LINKTYPE.EN10MB, frame).srcIp, "198.18.0.2");
    const stp = Buffer.concat([
      Buffer.alloc(12, 2),
      Buffer.from([0, 38, 0x42, 0x42, 0x03]),
      Buffer.alloc(35),
    ]);
    assert.deepEqual(decodeFrame(LINKTYPE.EN10MB, stp), { ignored: "802.3 frame without SNAP" });
  });

  test("ARP, unknown link types and unknown address families are ignored", () => {
    assert.deepEqual(decodeFrame(LINKTYPE.EN10MB, ether(0x0806, Buffer.alloc(28))), {
      ignored: "ethertype 0x806",
    });
    assert.deepEqual(decodeFrame(147, ip), { ignored: "link type 147" });
    assert.deepEqual(decodeFrame(LINKTYPE.NULL, afHeader(7, true, ip)), {
      ignored: "address family 7",
    });
  });

  test("frames shorter than the link header are malformed", () => {
    for (const lt of [LINKTYPE.EN10MB, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL]) {
      assert.ok("malformed" in decodeFrame(lt, Buffer.alloc(3)), `link type ${lt}`);
    }
  });

  test("a link layer that announces IPv4 around an IPv6 header is malformed", () => {
    assert.ok("malformed" in decodeFrame(LINKTYPE.EN10MB, ether(0x0800, ip6)));
  });
});

describe("IPv4", () => {
  for (const words of [1, 2, 3, 10]) {
    test(`IHL ${5 + words} (options) puts the payload after the options`, () => {
      // IHL 6 and 7 are the values upstream's 0x15 mask mis-reads.
      const opts = Buffer.alloc(words * 4, 1); // NOP options
      const p = decoded(LINKTYPE.RAW, ipv4(17, udp(PAYLOAD), opts));
      assert.deepEqual(p.payload, PAYLOAD);
      assert.equal(p.dstPort, 62201);
    });
  }

  test("Ethernet padding and FCS after the IP total length are not payload", () => {
    const frame = Buffer.concat([
      ether(0x0800, ipv4(17, udp(PAYLOAD))),
      Buffer.from("deadbeef", "hex"),
    ]);
    assert.deepEqual(decoded(LINKTYPE.EN10MB, frame).payload, PAYLOAD);
  });

  test("TCP payload starts after the data offset, options included", () => {
    for (const extra of [0, 12, 40]) {
      const p = decoded(LINKTYPE.RAW, ipv4(6, tcp(PAYLOAD, extra)));
      assert.deepEqual([p.proto, p.srcPort, p.dstPort], [6, 40001, 62201]);
      assert.deepEqual(p.payload, PAYLOAD);
    }
  });

  test("ICMP payload follows the 8-byte ICMP header; ports are 0", () => {
    const p = decoded(LINKTYPE.RAW, ipv4(1, icmp(PAYLOAD)));
    assert.deepEqual([p.proto, p.srcPort, p.dstPort], [1, 0, 0]);
    assert.deepEqual(p.payload, PAYLOAD);
  });

  test("empty TCP segments and other protocols are ignored", () => {
    assert.deepEqual(decodeFrame(LINKTYPE.RAW, ipv4(6, tcp(Buffer.alloc(0)))), {
      ignored: "no payload",
    });
    assert.deepEqual(decodeFrame(LINKTYPE.RAW, ipv4(47, Buffer.alloc(30))), {
      ignored: "IP protocol 47",
    });
  });

  test("packets cut at the snap length, fragments and bad headers are malformed", () => {
    const whole = ipv4(17, udp(PAYLOAD));
    const frag = Buffer.from(whole);
    frag.writeUInt16BE(0x2000, 6); // more fragments
    const later = Buffer.from(whole);
    later.writeUInt16BE(0x0010, 6); // fragment offset 16
    const ihl4 = Buffer.from(whole);
    ihl4[0] = 0x44;
    const badOffset = ipv4(6, tcp(Buffer.alloc(10)));
    badOffset[20 + 12] = 0xf0; // data offset 60, segment of 30 bytes
    for (const bad of [
      whole.subarray(0, 100),
      frag,
      later,
      ihl4,
      badOffset,
      ipv4(17, Buffer.alloc(4)),
    ]) {
      assert.ok(
        "malformed" in decodeFrame(LINKTYPE.RAW, bad),
        JSON.stringify(decodeFrame(LINKTYPE.RAW, bad)),
      );
    }
  });

  test("the don't-fragment flag alone is fine", () => {
    const df = ipv4(17, udp(PAYLOAD));
    df.writeUInt16BE(0x4000, 6);
    assert.deepEqual(decoded(LINKTYPE.RAW, df).payload, PAYLOAD);
  });
});

describe("IPv6", () => {
  test("hop-by-hop and destination options are skipped", () => {
    const hop = Buffer.concat([Buffer.from([60, 0]), Buffer.alloc(6)]); // next: dest opts
    const dst = Buffer.concat([Buffer.from([17, 1]), Buffer.alloc(14)]); // 16 bytes, next: UDP
    const p = decoded(LINKTYPE.RAW, ipv6(0, Buffer.concat([hop, dst, udp(PAYLOAD)])));
    assert.deepEqual([p.proto, p.dstPort], [17, 62201]);
    assert.deepEqual(p.payload, PAYLOAD);
  });

  test("TCP over IPv6", () => {
    const p = decoded(LINKTYPE.RAW, ipv6(6, tcp(PAYLOAD, 12)));
    assert.deepEqual([p.proto, p.srcIp, p.dstIp], [6, "2001:db8::2", "2001:db8::1"]);
    assert.deepEqual(p.payload, PAYLOAD);
  });

  test("fragments, cut packets, runaway extension headers and ICMPv6 are not handed on", () => {
    const frag = ipv6(
      44,
      Buffer.concat([Buffer.from([17, 0, 0, 1]), Buffer.alloc(4), udp(PAYLOAD)]),
    );
    assert.ok("malformed" in decodeFrame(LINKTYPE.RAW, frag));
    assert.ok("malformed" in decodeFrame(LINKTYPE.RAW, ipv6(17, udp(PAYLOAD)).subarray(0, 60)));
    const runaway = ipv6(0, Buffer.concat([Buffer.from([17, 200]), Buffer.alloc(6)]));
    assert.ok("malformed" in decodeFrame(LINKTYPE.RAW, runaway));
    assert.deepEqual(decodeFrame(LINKTYPE.RAW, ipv6(58, icmp(PAYLOAD))), {
      ignored: "IP protocol 58",
    });
  });
});
