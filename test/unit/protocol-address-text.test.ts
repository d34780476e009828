import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalAddress, canonicalIpv4 } from "../../src/protocol/address-text.js";

test("IPv4 text is read as libfko's inet_aton reads it (checked against fwknop 2.6.10 -T)", () => {
  // fwknop 2.6.10 sends `-a 192.000.002.002` and `-a 010.1.1.1` as typed and refuses
  // `-a 09.1.1.1` ("Invalid allow IP"); iptables, ipset and nft all store 010 as 8.
  assert.equal(canonicalIpv4("192.000.002.002"), "192.0.2.2");
  assert.equal(canonicalIpv4("010.1.1.1"), "8.1.1.1");
  assert.equal(canonicalIpv4("0300.0250.02.01"), "192.168.2.1");
  assert.equal(canonicalIpv4("09.1.1.1"), undefined);
  assert.equal(canonicalIpv4("256.1.1.1"), undefined);
  assert.equal(canonicalIpv4("1.2.3"), undefined);
});

test("IPv6 text becomes RFC 5952 text; IPv4-mapped addresses become the IPv4 client", () => {
  assert.equal(canonicalAddress("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  assert.equal(canonicalAddress("2001:0db8::0001"), "2001:db8::1");
  assert.equal(canonicalAddress("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(canonicalAddress("::FFFF:C000:0207"), "192.0.2.7");
  assert.equal(canonicalAddress("fe80::1%eth0"), undefined);
  assert.equal(canonicalAddress("not an address"), undefined);
});
