import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import {
  type AddressList,
  inetAton,
  isValidIpv4Addr,
  parseAddressList,
} from "../../src/config/address-list.js";

function list(text: string): AddressList {
  const r = parseAddressList(text);
  if (!r.ok) assert.fail(`'${text}' should parse: ${r.detail}`);
  return r.value;
}

function refused(text: string): string {
  const r = parseAddressList(text);
  if (r.ok) assert.fail(`'${text}' should be refused`);
  assert.equal(r.code, "FWK_ERR_CONFIG_ADDRESS");
  return r.detail;
}

const dotted = (n: number | undefined) =>
  n === undefined ? undefined : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

describe("inetAton (glibc forms fwknopd accepts)", () => {
  test("dotted quad and the short forms", () => {
    assert.equal(dotted(inetAton("192.0.2.7")), "192.0.2.7");
    assert.equal(dotted(inetAton("10.1")), "10.0.0.1");
    assert.equal(dotted(inetAton("10.1.2")), "10.1.0.2");
    assert.equal(dotted(inetAton("167772161")), "10.0.0.1");
  });

  test("octal and hex parts", () => {
    assert.equal(dotted(inetAton("010.0.0.1")), "8.0.0.1");
    assert.equal(dotted(inetAton("0x7f.1")), "127.0.0.1");
    assert.equal(dotted(inetAton("0xC0.0250.2.07")), "192.168.2.7");
  });

  test("anything after whitespace is ignored, like glibc", () => {
    assert.equal(dotted(inetAton("1.2.3.4 junk")), "1.2.3.4");
    assert.equal(dotted(inetAton("1.2.3.4\t")), "1.2.3.4");
  });

  test("refusals", () => {
    for (const bad of [
      "",
      "1.2.3.4.5",
      "256.1.1.1",
      "1.2.3.256",
      "08.1.1.1",
      "1..2",
      "1.",
      ".1",
      "a.b.c.d",
      "1.2.3.4x",
      "4294967296",
      "1.16777216",
    ]) {
      assert.equal(inetAton(bad), undefined, bad);
    }
  });

  test("isValidIpv4Addr wants exactly dotted-quad digits", () => {
    assert.ok(isValidIpv4Addr("192.168.10.2"));
    assert.ok(!isValidIpv4Addr("192.168.10"));
    assert.ok(!isValidIpv4Addr("10.1"));
    assert.ok(!isValidIpv4Addr("192.168.010.2x"));
    assert.ok(!isValidIpv4Addr("1.2.3.4.5"));
    assert.ok(!isValidIpv4Addr("999.1.1.1"));
  });
});

describe("parseAddressList", () => {
  test("ANY (any case) matches everything, IPv6 included", () => {
    for (const t of ["ANY", "any", " Any"]) {
      const l = list(t);
      assert.ok(l.any);
      assert.ok(l.matches("198.18.0.1") && l.matches("0.0.0.0") && l.matches("2001:db8::1"));
    }
  });

  test("a plain address is a /32", () => {
    const l = list("192.0.2.7");
    assert.ok(l.matches("192.0.2.7"));
    assert.ok(!l.matches("192.0.2.8"));
    assert.ok(!l.any);
  });

  test("CIDR 1-32", () => {
    const l = list("10.0.0.0/8");
    assert.ok(l.matches("10.255.1.2"));
    assert.ok(!l.matches("11.0.0.1"));
    assert.ok(list("0.0.0.0/1").matches("127.0.0.1"));
    assert.ok(!list("0.0.0.0/1").matches("128.0.0.1"));
    // The network part is masked, so a host address with a prefix names its network.
    assert.ok(list("192.0.2.77/24").matches("192.0.2.1"));
  });

  test("dotted masks, including inet_aton short masks and non-contiguous ones", () => {
    assert.ok(list("10.1.0.0/255.255.0.0").matches("10.1.9.9"));
    assert.ok(!list("10.1.0.0/255.255.0.0").matches("10.2.0.1"));
    assert.ok(list("1.2.3.4/255.255.0").matches("1.2.200.200"));
    assert.ok(list("10.0.0.1/255.0.255.0").matches("10.9.0.9"));
    assert.ok(list("1.2.3.4/0.0.0.0").matches("203.0.113.1"));
  });

  test("comma lists, spaces after commas, entry texts kept", () => {
    const l = list("192.0.2.1, 198.51.100.0/24,203.0.113.9");
    assert.deepEqual(
      l.entries.map((e) => e.text),
      ["192.0.2.1", "198.51.100.0/24", "203.0.113.9"],
    );
    assert.ok(l.matches("198.51.100.200") && l.matches("203.0.113.9") && !l.matches("192.0.2.2"));
    assert.ok(list("ANY , 10.0.0.1").any);
  });

  test("legacy forms in lists", () => {
    assert.ok(list("010.0.0.1").matches("8.0.0.1"));
    assert.ok(list("10.1").matches("10.0.0.1"));
  });

  test("refusals name the entry and the reason", () => {
    assert.match(
      refused("10.0.0.0/0"),
      /'10\.0\.0\.0\/0': Invalid IP mask str '0'\. \(CIDR prefix must be 1-32\)/,
    );
    assert.match(refused("10.0.0.0/33"), /Invalid IP mask str '33'/);
    assert.match(refused("10.0.0.0/"), /Missing mask value/);
    assert.match(refused("10.0.0.0/255"), /Invalid IP mask str '255'/);
    assert.match(refused("10.0.0.0/255.255.0.0.0"), /Fatal error parsing IP mask to int/);
    assert.match(refused("10.0.0.0/299.255.0.0"), /Fatal error parsing IP mask to int for: 299/);
    assert.match(
      refused("10.0.0.300"),
      /'10\.0\.0\.300': Error parsing string to IP \(not an IPv4 address\)/,
    );
    assert.match(
      refused("192.0.2.1, host.example"),
      /'host\.example' in '192\.0\.2\.1, host\.example'/,
    );
    assert.match(refused("192.0.2.1,"), /empty entry/);
    assert.match(refused(",192.0.2.1"), /empty entry/);
    assert.match(refused("111.111.111.1111"), /not an IPv4 address/);
  });

  test("IPv4-mapped IPv6 sources match IPv4 entries", () => {
    assert.ok(list("192.0.2.0/24").matches("::ffff:192.0.2.9"));
  });

  test("IPv6 entries (our extension)", () => {
    const l = list("2001:db8::/32, 192.0.2.1");
    assert.ok(l.matches("2001:db8:1::5"));
    assert.ok(!l.matches("2001:db9::1"));
    assert.ok(l.matches("192.0.2.1"));
    assert.ok(!list("192.0.2.1").matches("2001:db8::1"));
    assert.match(refused("2001:db8::/0"), /IPv6/);
    assert.match(refused("2001:db8::zz"), /IPv6/);
  });

  test("garbage input never matches", () => {
    const l = list("10.0.0.0/8");
    assert.ok(!l.matches("not-an-ip"));
    assert.ok(!l.matches("10.1"));
  });
});

describe("properties", () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const dottedOf = (n: number) => dotted(n) ?? "";

  test("inetAton agrees with ipaddr.js on legacy forms (decimal, octal, hex, 1-4 parts)", () => {
    const part = (n: number, style: number) =>
      style === 0 ? String(n) : style === 1 ? `0${n.toString(8)}` : `0x${n.toString(16)}`;
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        (n, parts, styles) => {
          const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
          // The last part carries the remaining low bytes, as in a.b.c (16-bit c) or a (32-bit).
          const head = bytes.slice(0, parts - 1);
          const tail = bytes.slice(parts - 1).reduce((acc, b) => acc * 256 + b, 0);
          const text = [...head, tail].map((v, i) => part(v, styles[i] ?? 0)).join(".");
          assert.equal(dotted(inetAton(text)), ipaddr.IPv4.parse(text).toString(), text);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("CIDR matching agrees with ipaddr.js", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 32 }), u32, (net, bits, probe) => {
        const l = list(`${dottedOf(net)}/${bits}`);
        const expected = ipaddr.IPv4.parse(dottedOf(probe)).match(
          ipaddr.IPv4.parse(dottedOf(net)),
          bits,
        );
        assert.equal(l.matches(dottedOf(probe)), expected);
        assert.ok(l.matches(dottedOf(net)));
      }),
      { numRuns: 500 },
    );
  });

  test("a CIDR and its dotted mask match the same addresses", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 32 }), u32, (net, bits, probe) => {
        const mask = dottedOf(bits === 32 ? 0xffff_ffff : (0xffff_ffff << (32 - bits)) >>> 0);
        const a = list(`${dottedOf(net)}/${bits}`);
        const b = list(`${dottedOf(net)}/${mask}`);
        assert.equal(a.matches(dottedOf(probe)), b.matches(dottedOf(probe)));
      }),
      { numRuns: 300 },
    );
  });
});
