import assert from "node:assert/strict";
import { test } from "node:test";
import { dearmor, gpgArgv } from "../../src/client/gpg-seal.js";
import { extractIpv4 } from "../../src/client/resolve-ip.js";
import { parseProxyTarget } from "../../src/client/ssh-proxy.js";
import { httpRequest, parseProxy } from "../../src/client/transport.js";
import { FwknopError } from "../../src/errors.js";

test("--ssh-proxy targets: host:port and [v6]:port", () => {
  assert.deepEqual(parseProxyTarget("gw.example:22"), { host: "gw.example", port: 22 });
  assert.deepEqual(parseProxyTarget("[2001:db8::1]:2222"), { host: "2001:db8::1", port: 2222 });
  for (const bad of ["gw.example", "gw:0", "gw:70000", ":22", "2001:db8::1:22"]) {
    assert.throws(() => parseProxyTarget(bad), FwknopError, bad);
  }
});

test("HTTP SPA request: URL-safe data; through a proxy the request names the server", () => {
  assert.equal(
    httpRequest("a+b/c", "srv", "Fwknop/2.6.10"),
    "GET /a-b_c HTTP/1.0\r\nUser-Agent: Fwknop/2.6.10\r\nAccept: */*\r\nHost: srv\r\nConnection: close\r\n\r\n",
  );
  assert.match(
    httpRequest("x", "srv", "UA", "proxy"),
    /^GET http:\/\/srv\/x HTTP\/1\.0\r\n.*Host: proxy\r\n/s,
  );
  assert.deepEqual(parseProxy("http://proxy.example:3128", 62201), {
    host: "proxy.example",
    port: 3128,
  });
  assert.deepEqual(parseProxy("proxy.example", 8080), { host: "proxy.example", port: 8080 });
  assert.throws(() => parseProxy("proxy:99999", 1), /proxy port value is invalid/);
});

test("-R answers: the first valid dotted quad", () => {
  assert.equal(extractIpv4("Your IP: 198.51.100.7\n"), "198.51.100.7");
  assert.equal(extractIpv4("999.1.1.1 then 203.0.113.9"), "203.0.113.9");
  assert.equal(extractIpv4("2001:db8::1"), undefined);
});

test("gpg: armored output back to the binary message; passphrase only through fd 3", () => {
  const body = Buffer.from([0x85, 0x01, 0x0c, 1, 2, 3, 4, 5, 6]);
  const armored = `-----BEGIN PGP MESSAGE-----\n\n${body.toString("base64")}\n=abcd\n-----END PGP MESSAGE-----\n`;
  assert.deepEqual(dearmor(armored), body);
  const argv = gpgArgv({ recipient: "R", signer: "S", signingPw: Buffer.from("pw"), agent: false });
  assert.ok(argv.includes("--passphrase-fd"));
  assert.ok(!argv.includes("pw"));
  assert.ok(!gpgArgv({ recipient: "R", signer: "S", agent: true }).includes("--pinentry-mode"));
});
