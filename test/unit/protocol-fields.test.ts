import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cStrtol,
  isValidIpv4Text,
  validateAccessMessage,
  validateCommandMessage,
  validateNatAccess,
  validateUsername,
} from "../../src/protocol/fields.js";

test("cStrtol follows strtol and then narrows to a 32-bit int", () => {
  assert.equal(cStrtol("12ab", 0, -1), 12);
  assert.equal(cStrtol("  +5", 0, -1), 5);
  assert.equal(cStrtol("abc", 0, -1), 0);
  assert.equal(cStrtol("-5", 0, -1), undefined);
  assert.equal(cStrtol("4294967296", 0, -1), 0);
  assert.equal(cStrtol("2147483648", 0, -1), undefined);
  assert.equal(cStrtol("99999999999999999999", 0, -1), undefined);
  assert.equal(cStrtol("65536", 0, 65536), 65536);
  assert.equal(cStrtol("65537", 0, 65536), undefined);
});

test("IPv4 text: digits and three dots, inet_aton octal octets", () => {
  for (const ip of ["0.0.0.0", "255.255.255.255", "010.0.0.1", "0377.0.0.1", "0255.0255.0255.1"]) {
    assert.ok(isValidIpv4Text(ip), ip);
  }
  for (const ip of [
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.256",
    "08.0.0.1",
    "0400.0.0.1",
    "1..3.4",
    "1.2.3.4 ",
    "a.b.c.d",
  ]) {
    assert.equal(isValidIpv4Text(ip), false, ip);
  }
});

test("access messages", () => {
  for (const m of [
    "1.2.3.4,tcp/22",
    "1.2.3.4,udp/53,tcp/65535",
    "0.0.0.0,tcp/1",
    "1.2.3.4,tcp/022",
  ]) {
    assert.ok(validateAccessMessage(m).ok, m);
  }
  const bad: [string, string][] = [
    ["1.2.3.4,icmp/1", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,none/0", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,tcp/0", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,tcp/65536", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,tcp/22,", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,TCP/22", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,tcpx/22", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,bad/22,tcp/22", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.4,", "FKO_ERROR_INVALID_SPA_ACCESS_MSG"],
    ["1.2.3.256,tcp/22", "FKO_ERROR_INVALID_ALLOW_IP"],
    ["0255.0255.0255.1,tcp/22", "FKO_ERROR_INVALID_ALLOW_IP"],
  ];
  for (const [m, code] of bad) {
    const r = validateAccessMessage(m);
    assert.equal(r.ok ? "ok" : r.code, code, m);
  }
});

test("command messages need an allow IP and a command", () => {
  assert.ok(validateCommandMessage("1.2.3.4,echo a:b").ok);
  for (const m of ["1.2.3.4,", "1.2.3.4", "1.2.3,echo", "host,echo"]) {
    assert.equal(validateCommandMessage(m).ok, false, m);
  }
});

test("NAT access: host (names allowed) and port, one comma", () => {
  for (const n of ["10.0.0.5,22", "some.host,8080", ",22", `${"h".repeat(70)},1`]) {
    assert.ok(validateNatAccess(n).ok, n);
  }
  for (const n of ["a,b", "h o,22", "host,22,", "host,0", "h/x,1", `${"h".repeat(71)},1`, "host"]) {
    assert.equal(validateNatAccess(n).ok, false, n);
  }
});

test("usernames", () => {
  for (const u of ["alice", "bob smith", "-", "a.b@c", "$%&"]) assert.ok(validateUsername(u).ok, u);
  const first = validateUsername(":x");
  assert.equal(first.ok ? "" : first.code, "FKO_ERROR_INVALID_DATA_USER_FIRSTCHAR_VALIDFAIL");
  const rest = validateUsername("bob:x");
  assert.equal(rest.ok ? "" : rest.code, "FKO_ERROR_INVALID_DATA_USER_REMCHAR_VALIDFAIL");
  const empty = validateUsername("");
  assert.equal(empty.ok ? "" : empty.code, "FKO_ERROR_INVALID_DATA_USER_MISSING");
  for (const u of ["tab\t", "\u00e9", "a/b", "a=b"]) assert.equal(validateUsername(u).ok, false, u);
});

test("IPv6 allow-IPs are accepted as our extension (fwknopd 2.6.10 refuses them)", () => {
  assert.ok(validateAccessMessage("2001:db8::2,tcp/22").ok);
  assert.ok(validateCommandMessage("2001:db8::2,uptime").ok);
  for (const m of ["2001:db8::2::1,tcp/22", "2001:db8::g,tcp/22", "fe80::1%eth0,tcp/22"]) {
    const r = validateAccessMessage(m);
    assert.equal(r.ok ? "ok" : r.code, "FKO_ERROR_INVALID_ALLOW_IP", m);
  }
});
