import assert from "node:assert/strict";
import { test } from "node:test";
import { precheck } from "../../src/server/precheck.js";

const opts = { http: false, anyUserAgent: false, xForwardedFor: false };
const spa = "A".repeat(150);

test("precheck: size window 140..1500", () => {
  assert.equal(precheck(Buffer.from("A".repeat(139)), opts).ok, false);
  assert.equal(precheck(Buffer.from("A".repeat(140)), opts).ok, true);
  assert.equal(precheck(Buffer.from("A".repeat(1500)), opts).ok, true);
  const big = precheck(Buffer.from("A".repeat(1501)), opts);
  assert.ok(!big.ok);
  assert.equal(big.code, "SPA_MSG_BAD_DATA");
});

test("precheck: prefix-prepending replay tricks are dropped", () => {
  const r = precheck(Buffer.from(`U2FsdGVkX1${spa}`), opts);
  assert.ok(!r.ok);
  assert.equal(r.code, "SPA_MSG_BAD_DATA");
  assert.equal(precheck(Buffer.from(`hQ${"A".repeat(500)}`), opts).ok, false);
  assert.equal(precheck(Buffer.from(`hQ${"A".repeat(200)}`), opts).ok, true);
});

test("precheck: non-base64 bytes are not SPA data", () => {
  const r = precheck(Buffer.from(`${spa}!`), opts);
  assert.ok(!r.ok);
  assert.equal(r.code, "SPA_MSG_NOT_SPA_DATA");
});

test("precheck: SPA over HTTP is unmapped only when enabled and from a Fwknop user agent", () => {
  const data = `${"ab-_".repeat(40)}`;
  const req = Buffer.from(
    `GET /${data} HTTP/1.1\r\nUser-Agent: Fwknop/2.6.10\r\nX-Forwarded-For: 192.0.2.44\r\n\r\n`,
  );
  const off = precheck(req, opts);
  assert.ok(!off.ok);
  assert.equal(off.code, "SPA_MSG_HTTP_NOT_ENABLED");
  const on = precheck(req, { http: true, anyUserAgent: false, xForwardedFor: true });
  assert.ok(on.ok);
  assert.equal(on.value.wire, "ab+/".repeat(40));
  assert.equal(on.value.forwardedFor, "192.0.2.44");
  const curl = Buffer.from(`GET /${data} HTTP/1.1\r\nUser-Agent: curl\r\n\r\n`);
  assert.equal(precheck(curl, { http: true, anyUserAgent: false, xForwardedFor: false }).ok, false);
  assert.equal(precheck(curl, { http: true, anyUserAgent: true, xForwardedFor: false }).ok, true);
});
