/**
 * Valid SPA knocks for the benchmarks and the crash suite, built with our own encoder: random value and salt from
 * crypto.randomBytes, timestamp now, AES-CBC with an HMAC-SHA-256, as `fwknop` sends by default.
 */
import { randomBytes } from "node:crypto";
import { encodeSpa } from "../../src/protocol/spa.js";

export interface BenchKeys {
  /** base64 Rijndael key (KEY_BASE64) */
  key: string;
  /** base64 HMAC key (HMAC_KEY_BASE64) */
  hmac: string;
}

export interface KnockSpec {
  /** The address the grant opens for (the message's allow-IP, like `fwknop -a`). */
  allowIp: string;
  port: number;
  /** Seconds; asks for a client-chosen timeout (message type 3) when set. */
  clientTimeout?: number;
}

function randomDigits16(): string {
  // 8 random bytes → 16 decimal digits; libfko's random value is 16 digits too.
  const n = randomBytes(8).readBigUInt64BE() % 10_000_000_000_000_000n;
  return n.toString().padStart(16, "0");
}

export function makeKnock(keys: BenchKeys, spec: KnockSpec, now = Date.now()): string {
  const r = encodeSpa(
    {
      randomValue: randomDigits16(),
      username: "bench",
      timestamp: Math.floor(now / 1000),
      version: "3.0.0",
      messageType: 1,
      message: `${spec.allowIp},tcp/${spec.port}`,
      ...(spec.clientTimeout !== undefined ? { clientTimeout: spec.clientTimeout } : {}),
    },
    {
      encKey: Buffer.from(keys.key, "base64"),
      encMode: "CBC",
      hmacKey: Buffer.from(keys.hmac, "base64"),
      hmacType: "sha256",
    },
    { digestType: "sha256", salt: randomBytes(8) },
  );
  if (!r.ok) throw new Error(`cannot encode a bench knock: ${r.code} ${r.detail}`);
  return r.value.wire;
}

/** The i-th address of 198.18.64.0/18 (16,384 addresses): one distinct grant per index. */
export function grantIp(i: number): string {
  if (i < 0 || i >= 16_384) throw new RangeError(`grant index ${i} outside 198.18.64.0/18`);
  return `198.18.${64 + (i >> 8)}.${i & 255}`;
}
