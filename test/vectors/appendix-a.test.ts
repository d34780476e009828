/**
 * Spec Appendix A: the three deterministic vectors (byte-exact both ways) and the decoder edge
 * cases A.4 that were probed against libfko.
 */
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { describe, test } from "node:test";
import { b64uEncode } from "../../src/crypto/base64.js";
import { digestB64 } from "../../src/crypto/digest.js";
import { deriveKeyIv, legacyPassphrase } from "../../src/crypto/rijndael.js";
import type { DigestName } from "../../src/protocol/constants.js";
import {
  decodeSpa,
  encodeSpa,
  replayDigest,
  type SpaKeys,
  type SpaMessage,
  sealPlaintext,
} from "../../src/protocol/spa.js";

interface Vector {
  name: string;
  msg: SpaMessage;
  keys: SpaKeys;
  salt: string;
  plaintext: string;
  aesKey: string;
  aesIv: string;
  ciphertext: string;
  hmac?: string;
  wire: string;
  replay: string;
}

const VECTORS: Vector[] = [
  {
    name: "V1 CBC, SHA-256, HMAC-SHA-256, access",
    msg: {
      randomValue: "1234567890123456",
      username: "alice",
      timestamp: 1700000000,
      version: "3.0.0",
      messageType: 1,
      message: "192.0.2.10,tcp/22",
    },
    keys: {
      encKey: Buffer.from("fwknoptest"),
      encMode: "CBC",
      hmacKey: Buffer.from("hmac-test-key"),
      hmacType: "sha256",
    },
    salt: "0001020304050607",
    plaintext:
      "1234567890123456:YWxpY2U:1700000000:3.0.0:1:MTkyLjAuMi4xMCx0Y3AvMjI:SP3U8fgHB86tOvZ+SP0gPBhyCpPS8ml7S4E6epzC7qc",
    aesKey: "fd3e186a43aff3b28f96d377481ac117d9f24690a9228f5724510dad3be32141",
    aesIv: "918b4f3283166318bfb36de0c035c489",
    ciphertext:
      "U2FsdGVkX18AAQIDBAUGB2rzj4RiMGZ2B2xG3eqggyd6EkeBZGYCSF4QZlcLHbA4GUIfxoOZWR8veHxu3KOQ0P95wt4S1MihKc9H6iOCIqzy2VXC1dUHdfUP2zxLbDKFUdaZPG6tB48dkRl0h5Km3wBKY+NlO0kBVCkkU6D57Nk",
    hmac: "nNq8+aKsohMw3vXWvdMA92QA0Y3PNXKMwlcKtMlpgVU",
    wire: "8AAQIDBAUGB2rzj4RiMGZ2B2xG3eqggyd6EkeBZGYCSF4QZlcLHbA4GUIfxoOZWR8veHxu3KOQ0P95wt4S1MihKc9H6iOCIqzy2VXC1dUHdfUP2zxLbDKFUdaZPG6tB48dkRl0h5Km3wBKY+NlO0kBVCkkU6D57NknNq8+aKsohMw3vXWvdMA92QA0Y3PNXKMwlcKtMlpgVU",
    replay: "0l18WHvFB1x7u4xLkf0TXfcmK9RFi3tiBadPm5M6mRg",
  },
  {
    name: "V2 CBC, 32-byte key, HMAC-SHA-256, type 4",
    msg: {
      randomValue: "6543210987654321",
      username: "bob",
      timestamp: 1700000123,
      version: "3.0.0",
      messageType: 4,
      message: "198.51.100.7,tcp/55000",
      natAccess: "10.0.0.5,22",
      clientTimeout: 600,
    },
    keys: {
      encKey: Buffer.from("0123456789abcdef0123456789abcdef"),
      encMode: "CBC",
      hmacKey: Buffer.from("Another-HMAC-Key-For-Vector-2"),
      hmacType: "sha256",
    },
    salt: "a1a2a3a4a5a6a7a8",
    plaintext:
      "6543210987654321:Ym9i:1700000123:3.0.0:4:MTk4LjUxLjEwMC43LHRjcC81NTAwMA:MTAuMC4wLjUsMjI:600:EOBVzmUq6oFWVeF5cpV93yx47nq8giRflRzZXmBcgso",
    aesKey: "13c3669a29dd94f90114e449f0f36b5f8dde07566657b43648bc58db43ba8c7c",
    aesIv: "da5a18c0b3046924f55e527f17245433",
    ciphertext:
      "U2FsdGVkX1+hoqOkpaanqJU8PcWTEQ1STmzeoFtUGIVWbbY0oAmI6gX9FWG+3CaI5xa8BHstoDX3rpazRuLUY5WKtuYCawVJrwzh+mey60vNv67/ZhVsxSsdnP+fX7VK4FYgzxJdRTjkGD4i3M2CR8rxR1LA2JFFs7zotD0DrQ0JywNC+24k1bsJN/jJouYAkOqmyfH0H80AJXpgVfDJCQ",
    hmac: "tV8hoqyrZzu3v1+6Nux2/eA6SeWTFMwK/zbA2N5KOZw",
    wire: "+hoqOkpaanqJU8PcWTEQ1STmzeoFtUGIVWbbY0oAmI6gX9FWG+3CaI5xa8BHstoDX3rpazRuLUY5WKtuYCawVJrwzh+mey60vNv67/ZhVsxSsdnP+fX7VK4FYgzxJdRTjkGD4i3M2CR8rxR1LA2JFFs7zotD0DrQ0JywNC+24k1bsJN/jJouYAkOqmyfH0H80AJXpgVfDJCQtV8hoqyrZzu3v1+6Nux2/eA6SeWTFMwK/zbA2N5KOZw",
    replay: "9ympcl1LNMy4KsMhrqAQBIyZLKrzd7HceKZfKCiBNyk",
  },
  {
    name: "V3 legacy, no HMAC, 0.0.0.0",
    msg: {
      randomValue: "1111222233334444",
      username: "root",
      timestamp: 1700000000,
      version: "3.0.0",
      messageType: 1,
      message: "0.0.0.0,udp/53",
    },
    keys: { encKey: Buffer.from("fwknoptest"), encMode: "legacy" },
    salt: "ffeeddccbbaa9988",
    plaintext:
      "1111222233334444:cm9vdA:1700000000:3.0.0:1:MC4wLjAuMCx1ZHAvNTM:1Uvm4wADMauPwOON5g/PO3PsFkkwyNiKdSrUkK/TLCs",
    aesKey: "b2706b399d75c6b805d6a715e1f6c10dbfad0f740781d08388ef62d3ff416936",
    aesIv: "d14f0dae6e0cc5d3d673f96461a40048",
    ciphertext:
      "U2FsdGVkX1//7t3Mu6qZiBkoZcwZJ3K0zOUKR9BqounF5C4q+KkUGth3S1mm1/sZXBK7bXQ2fDNx2hvlzwoQJqM3hBXH9zChTMXBYr+5XMpn7R8dFc6zK3ZJa7nCRfWipBLpwCPV2fckLH5XveN961PZr8O9sHLlfN/oDE+r3ME",
    wire: "//7t3Mu6qZiBkoZcwZJ3K0zOUKR9BqounF5C4q+KkUGth3S1mm1/sZXBK7bXQ2fDNx2hvlzwoQJqM3hBXH9zChTMXBYr+5XMpn7R8dFc6zK3ZJa7nCRfWipBLpwCPV2fckLH5XveN961PZr8O9sHLlfN/oDE+r3ME",
    replay: "ClBm09VDxbvm8uMDdMmrfAwEfg6ZwU+mYyWmn3shW3s",
  },
];

describe("Appendix A vectors", () => {
  for (const v of VECTORS) {
    test(`${v.name}: encode is byte-exact`, () => {
      const r = encodeSpa(v.msg, v.keys, {
        digestType: "sha256",
        salt: Buffer.from(v.salt, "hex"),
      });
      assert.ok(r.ok, r.ok ? "" : r.detail);
      assert.equal(`${r.value.encoded}:${r.value.digest}`, v.plaintext);
      assert.equal(r.value.ciphertext, v.ciphertext);
      assert.equal(r.value.hmac, v.hmac);
      assert.equal(r.value.wire, v.wire);
      assert.equal(replayDigest(r.value.wire), v.replay);
    });

    test(`${v.name}: key derivation`, () => {
      const pass = v.keys.encMode === "legacy" ? legacyPassphrase(v.keys.encKey) : v.keys.encKey;
      const { key, iv } = deriveKeyIv(pass, Buffer.from(v.salt, "hex"));
      assert.equal(key.toString("hex"), v.aesKey);
      assert.equal(iv.toString("hex"), v.aesIv);
    });

    test(`${v.name}: decode recovers every field`, () => {
      const r = decodeSpa(v.wire, v.keys);
      assert.ok(r.ok, r.ok ? "" : `${r.code}: ${r.detail}`);
      const { digestType, digest, encoded, ...fields } = r.value;
      assert.deepEqual(fields, v.msg);
      assert.equal(digestType, "sha256");
      assert.equal(`${encoded}:${digest}`, v.plaintext);
    });
  }
});

// --- A.4 decoder edge cases -------------------------------------------------------------------

const KEYS: SpaKeys = { encKey: Buffer.from("edge-case-key"), encMode: "CBC" };
const SALT = Buffer.from("1020304050607080", "hex");
const b64 = (s: string) => b64uEncode(Buffer.from(s, "latin1"));
const ACCESS = b64("192.0.2.1,tcp/22");

/** Encrypts `encoded` plus its digest exactly as given, without the encoder's checks. */
function packet(encoded: string, digestType: DigestName = "sha256", keys: SpaKeys = KEYS): string {
  const pt = Buffer.from(`${encoded}:${digestB64(digestType, encoded)}`, "latin1");
  const r = sealPlaintext(pt, keys, { salt: SALT });
  assert.ok(r.ok, r.ok ? "" : r.detail);
  return r.value.wire;
}

function fields(...f: string[]): string {
  return f.join(":");
}

const HEAD = ["1234567890123456", b64("alice"), "1700000000", "3.0.0"];

function expectCode(wire: string, code: string, keys: SpaKeys = KEYS): void {
  const r = decodeSpa(wire, keys);
  assert.equal(r.ok, false, `expected ${code}`);
  if (!r.ok) assert.equal(r.code, code, r.detail);
}

function expectOk(wire: string, keys: SpaKeys = KEYS) {
  const r = decodeSpa(wire, keys);
  assert.ok(r.ok, r.ok ? "" : `${r.code}: ${r.detail}`);
  return r.value;
}

describe("A.4 decoder edge cases", () => {
  test("random value: 17 digits or a letter ⇒ decryption failure", () => {
    expectCode(
      packet(fields("12345678901234567", ...HEAD.slice(1), "1", ACCESS)),
      "FKO_ERROR_DECRYPTION_FAILURE",
    );
    expectCode(
      packet(fields("123456789012345a", ...HEAD.slice(1), "1", ACCESS)),
      "FKO_ERROR_DECRYPTION_FAILURE",
    );
  });

  test("username: space allowed, colon refused", () => {
    const ok = expectOk(
      packet(fields(HEAD[0] ?? "", b64("bob smith"), "1700000000", "3.0.0", "1", ACCESS)),
    );
    assert.equal(ok.username, "bob smith");
    expectCode(
      packet(fields(HEAD[0] ?? "", b64("bob:x"), "1700000000", "3.0.0", "1", ACCESS)),
      "FKO_ERROR_INVALID_DATA_DECODE_USERNAME_VALIDFAIL",
    );
  });

  test("timestamp: strtol semantics", () => {
    const ts = (t: string) => packet(fields(HEAD[0] ?? "", HEAD[1] ?? "", t, "3.0.0", "1", ACCESS));
    expectCode(ts("-5"), "FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_DECODEFAIL");
    assert.equal(expectOk(ts("+5")).timestamp, 5);
    assert.equal(expectOk(ts("12ab")).timestamp, 12);
  });

  test("version of 9 characters is too big", () => {
    expectCode(
      packet(fields(HEAD[0] ?? "", HEAD[1] ?? "", "1700000000", "123456789", "1", ACCESS)),
      "FKO_ERROR_INVALID_DATA_DECODE_VERSION_TOOBIG",
    );
  });

  test("message type 7 refused, 01 read as 1", () => {
    expectCode(
      packet(fields(...HEAD, "7", ACCESS)),
      "FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_DECODEFAIL",
    );
    assert.equal(expectOk(packet(fields(...HEAD, "01", ACCESS))).messageType, 1);
  });

  test("trailing fields: server auth, garbage, timeouts, counts", () => {
    assert.equal(expectOk(packet(fields(...HEAD, "1", ACCESS, b64("auth")))).serverAuth, "auth");
    const garbage = expectOk(packet(fields(...HEAD, "1", ACCESS, "60")));
    assert.ok(garbage.serverAuth !== undefined && garbage.clientTimeout === undefined);
    const both = expectOk(packet(fields(...HEAD, "3", ACCESS, b64("auth"), "60")));
    assert.equal(both.serverAuth, "auth");
    assert.equal(both.clientTimeout, 60);
    expectCode(
      packet(fields(...HEAD, "3", ACCESS)),
      "FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_MISSING",
    );
    assert.equal(expectOk(packet(fields(...HEAD, "3", ACCESS, "65536"))).clientTimeout, 65536);
    expectCode(
      packet(fields(...HEAD, "3", ACCESS, "70000")),
      "FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_DECODEFAIL",
    );
    expectCode(
      packet(fields(...HEAD, "1", ACCESS, b64("a"), b64("b"))),
      "FKO_ERROR_INVALID_DATA_DECODE_WRONG_NUM_FIELDS",
    );
  });

  test("padded base64 message accepted", () => {
    const padded = Buffer.from("192.0.2.1,tcp/22").toString("base64");
    assert.ok(padded.endsWith("="));
    assert.equal(expectOk(packet(fields(...HEAD, "1", padded))).message, "192.0.2.1,tcp/22");
  });

  test("access message grammar", () => {
    for (const bad of [
      "192.0.2.1,icmp/1",
      "192.0.2.1,tcp/0",
      "192.0.2.1,tcp/22,",
      "192.0.2.1,TCP/22",
      "192.0.2.1,tcpx/22",
      "1.2.3.256,tcp/22",
    ]) {
      expectCode(
        packet(fields(...HEAD, "1", b64(bad))),
        "FKO_ERROR_INVALID_DATA_DECODE_ACCESS_VALIDFAIL",
      );
    }
  });

  test("NAT host names are allowed by the decoder", () => {
    const r = expectOk(packet(fields(...HEAD, "2", ACCESS, b64("some.host,22"))));
    assert.equal(r.natAccess, "some.host,22");
  });

  test("digest type detected from length, SHA3 by fallback", () => {
    const enc = fields(...HEAD, "1", ACCESS);
    for (const d of ["md5", "sha1", "sha384", "sha512", "sha3_256", "sha3_512"] as const) {
      assert.equal(expectOk(packet(enc, d)).digestType, d);
    }
  });

  test("no PKCS#7 padding, zero bytes at the end ⇒ digest mismatch", () => {
    const enc = fields(...HEAD, "1", ACCESS);
    const pt = Buffer.from(`${enc}:${digestB64("sha256", enc)}`, "latin1");
    const padded = Buffer.concat([pt, Buffer.alloc(16 - (pt.length % 16))]);
    const { key, iv } = deriveKeyIv(KEYS.encKey, SALT);
    const c = createCipheriv("aes-256-cbc", key, iv).setAutoPadding(false);
    const raw = Buffer.concat([Buffer.from("Salted__"), SALT, c.update(padded), c.final()]);
    expectCode(b64uEncode(raw).slice(10), "FKO_ERROR_DIGEST_VERIFICATION_FAILED");
  });

  test("wrong key ⇒ decryption failure", () => {
    expectCode(packet(fields(...HEAD, "1", ACCESS)), "FKO_ERROR_DECRYPTION_FAILURE", {
      encKey: Buffer.from("another-key"),
      encMode: "CBC",
    });
  });

  test("HMAC: ok, wrong key, absent, unexpected", () => {
    const hk: SpaKeys = { ...KEYS, hmacKey: Buffer.from("the-hmac-key"), hmacType: "sha256" };
    const withMac = packet(fields(...HEAD, "1", ACCESS), "sha256", hk);
    expectOk(withMac, hk);
    expectCode(withMac, "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", {
      ...hk,
      hmacKey: Buffer.from("nope"),
    });
    expectCode(packet(fields(...HEAD, "1", ACCESS)), "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL", hk);
    const r = decodeSpa(withMac, KEYS);
    assert.equal(r.ok, false);
  });

  test("a wire string that already carries U2FsdGVkX1 is accepted by the codec", () => {
    const wire = packet(fields(...HEAD, "1", ACCESS));
    expectOk(`U2FsdGVkX1${wire}`);
  });
});
