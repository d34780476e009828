import assert from "node:assert/strict";
import { test } from "node:test";
import { buildPacket, portFromRandom } from "../../src/client/build.js";
import { keyFromFile } from "../../src/client/key-source.js";
import { newRunRequest } from "../../src/client/options.js";
import { applyRcVariable, defaultSettings, parseTimeOffset } from "../../src/client/settings.js";
import { decodeSpa } from "../../src/protocol/spa.js";

test("time offsets read digits up to the first unit letter, as 2.6.10 does", () => {
  assert.equal(parseTimeOffset("90"), 90);
  assert.equal(parseTimeOffset("5m"), 300);
  assert.equal(parseTimeOffset("2d"), 172800);
  assert.equal(parseTimeOffset("1x2"), 12);
  assert.equal(parseTimeOffset("3m5"), 180);
  assert.equal(parseTimeOffset("1h1m"), 3600);
  assert.equal(parseTimeOffset("abc"), undefined);
  assert.equal(parseTimeOffset("70000"), undefined);
});

test("rc variables: booleans are only Y, ranges as upstream, names case-sensitive", () => {
  const s = defaultSettings();
  assert.ok(applyRcVariable(s, "RAND_PORT", "y"));
  assert.equal(s.randPort, true);
  assert.ok(applyRcVariable(s, "RAND_PORT", "yes"));
  assert.equal(s.randPort, false);
  assert.equal(applyRcVariable(s, "FW_TIMEOUT", "65537"), false);
  assert.equal(applyRcVariable(s, "access", "tcp/22"), false);
  assert.ok(applyRcVariable(s, "ALLOW_IP", "resolve"));
  assert.equal(s.resolveIp, true);
  assert.ok(applyRcVariable(s, "TIME_OFFSET", "-2h"));
  assert.equal(s.timeOffset, -7200);
  assert.equal(applyRcVariable(s, "KEY_BASE64", "not*base64"), false);
});

test("key files: 'host: key' lines, the last match for -D wins", () => {
  const text = "# keys\n10.0.0.1: first\n  10.0.0.1:  = second\n10.0.0.10: other\n";
  assert.equal(keyFromFile(text, "10.0.0.1"), "second");
  assert.equal(keyFromFile(text, "10.0.0.10"), "other");
  assert.equal(keyFromFile(text, "10.0.0.2"), undefined);
});

function fixedRandom(): () => string {
  let n = 0;
  return () => String(1234567890123456 + n++);
}

test("NAT messages: -N host:port, --nat-local with --nat-port, timeout promotion", async () => {
  const req = newRunRequest(defaultSettings());
  Object.assign(req.settings, { access: "tcp/22", destination: "203.0.113.1", fwTimeout: 60 });
  req.settings.natAccess = "192.0.2.5:80";
  const enc = Buffer.from("k");
  const base = { allowIp: "1.2.3.4", username: "u", now: 1000, salt: Buffer.alloc(8), encKey: enc };
  const p = await buildPacket(req, { ...base, randomValue: fixedRandom() });
  const d = decodeSpa(p.encoded.wire, p.keys);
  assert.ok(d.ok);
  assert.equal(d.value.messageType, 4);
  assert.equal(d.value.natAccess, "192.0.2.5,80");
  assert.equal(d.value.clientTimeout, 60);

  req.settings.natLocal = true;
  req.settings.natPort = 4444;
  req.settings.fwTimeout = -1;
  const l = await buildPacket(req, { ...base, randomValue: fixedRandom() });
  const dl = decodeSpa(l.encoded.wire, l.keys);
  assert.ok(dl.ok);
  assert.equal(dl.value.messageType, 5);
  assert.equal(dl.value.message, "1.2.3.4,tcp/4444");
  assert.equal(dl.value.natAccess, "203.0.113.1,22");
});

test("-r picks a destination port in 10000-65534", () => {
  assert.equal(portFromRandom("0000099999999999"), 10000);
  assert.equal(portFromRandom("5553499999999999"), 65534);
  assert.equal(portFromRandom("5553599999999999"), 10000);
});
