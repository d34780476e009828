import assert from "node:assert/strict";
import { test } from "node:test";
import { buildRawPacket, inetChecksum, type RawPacketSpec } from "../../src/client/raw-packet.js";

const BASE: RawPacketSpec = {
  mode: "udpraw",
  src: "198.18.0.2",
  dst: "198.18.0.1",
  srcPort: 40000,
  dstPort: 62201,
  payload: Buffer.from("SPADATA"),
  ipId: 0x1234,
  icmpType: 0,
  icmpCode: 0,
  icmpId: 0xbeef,
};

test("IPv4 header: version/IHL, length, id, TTL 255, protocol, addresses, valid checksum", () => {
  const p = buildRawPacket(BASE);
  assert.equal(p[0], 0x45);
  assert.equal(p.readUInt16BE(2), p.length);
  assert.equal(p.readUInt16BE(4), 0x1234);
  assert.equal(p[8], 255);
  assert.equal(p[9], 17);
  assert.deepEqual([...p.subarray(12, 16)], [198, 18, 0, 2]);
  assert.deepEqual([...p.subarray(16, 20)], [198, 18, 0, 1]);
  assert.equal(inetChecksum(p.subarray(0, 20)), 0);
});

test("udpraw: ports, length, checksum 0, payload", () => {
  const p = buildRawPacket(BASE);
  assert.equal(p.readUInt16BE(20), 40000);
  assert.equal(p.readUInt16BE(22), 62201);
  assert.equal(p.readUInt16BE(24), 8 + 7);
  assert.equal(p.readUInt16BE(26), 0);
  assert.equal(p.subarray(28).toString(), "SPADATA");
});

test("tcpraw: SYN, seq 1, window 32767, 20-byte header", () => {
  const p = buildRawPacket({ ...BASE, mode: "tcpraw" });
  assert.equal(p[9], 6);
  assert.equal(p.readUInt32BE(24), 1);
  assert.equal(p[32], 0x50);
  assert.equal(p[33], 0x02);
  assert.equal(p.readUInt16BE(34), 32767);
  assert.equal(p.subarray(40).toString(), "SPADATA");
});

test("icmp: type/code, valid checksum; echo request gets an id and sequence 1", () => {
  const reply = buildRawPacket({ ...BASE, mode: "icmp" });
  assert.equal(reply[9], 1);
  assert.equal(reply[20], 0);
  assert.equal(reply.readUInt32BE(24), 0);
  assert.equal(inetChecksum(reply.subarray(20)), 0);
  const req = buildRawPacket({ ...BASE, mode: "icmp", icmpType: 8 });
  assert.equal(req[20], 8);
  assert.equal(req.readUInt16BE(24), 0xbeef);
  assert.equal(req.readUInt16BE(26), 1);
  assert.equal(inetChecksum(req.subarray(20)), 0);
  assert.equal(req.subarray(28).toString(), "SPADATA");
});
