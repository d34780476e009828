import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { escapeLogText } from "../../src/log/escape.js";
import { decodeSpa, encodeSpa } from "../../src/protocol/spa.js";
import { decodeDump } from "../../src/server/packet-dump.js";
import { makeStanza } from "../helpers/stanza.js";

/** Reads escaped text back (the test's own inverse, to show nothing is lost or ambiguous). */
function readBack(s: string): string {
  return s.replace(/\\(n|r|t|\\|x[0-9a-f]{2}|u[0-9a-f]{4})/g, (_m, e: string) => {
    if (e === "n") return "\n";
    if (e === "r") return "\r";
    if (e === "t") return "\t";
    if (e === "\\") return "\\";
    return String.fromCharCode(Number.parseInt(e.slice(1), 16));
  });
}

test("control characters, DEL, C1 and line separators are escaped; printable text is kept", () => {
  assert.equal(escapeLogText("a\nb\r\tc"), "a\\nb\\r\\tc");
  assert.equal(escapeLogText("\x1b[2J\x00\x7f\x85"), "\\x1b[2J\\x00\\x7f\\x85");
  assert.equal(escapeLogText("x\u2028y"), "x\\u2028y");
  assert.equal(escapeLogText("C:\\temp"), "C:\\\\temp");
  assert.equal(escapeLogText("tcp/22, ü ok"), "tcp/22, ü ok");
});

test("property: escaped text has no control characters and reads back to the original", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
      const e = escapeLogText(s);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: that is what must not appear
      assert.doesNotMatch(e, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      assert.equal(readBack(e), s);
    }),
    { numRuns: 500 },
  );
});

test("the -v dump of a granted packet shows its HMAC and escapes the sender's text", () => {
  const keys = {
    encKey: Buffer.alloc(32, 1),
    encMode: "CBC" as const,
    hmacKey: Buffer.alloc(64, 2),
    hmacType: "sha256" as const,
  };
  const enc = encodeSpa(
    {
      randomValue: "1234567890123456",
      username: "alice",
      timestamp: 1_700_000_000,
      version: "3.0.0",
      messageType: 0,
      message: "192.0.2.7,echo hi\nAdded access rule",
    },
    keys,
    { digestType: "sha256", salt: Buffer.alloc(8, 3) },
  );
  assert.ok(enc.ok);
  const dec = decodeSpa(enc.value.wire, keys);
  assert.ok(dec.ok);
  const stanza = makeStanza({ key: keys.encKey, hmacKey: keys.hmacKey, hmacType: "sha256" });
  const dump = decodeDump("192.0.2.7", stanza, dec.value, "rijndael", enc.value.wire).split("\n");
  assert.ok(dump.includes(`           HMAC: ${enc.value.hmac}`), dump.join("\n"));
  assert.ok(dump.includes("      HMAC Type: 3 (SHA256)"));
  assert.ok(dump.includes(" Message String: 192.0.2.7,echo hi\\nAdded access rule"));
  assert.ok(!dump.some((l) => l.startsWith("Added access rule")));
});
