/**
 * Hostile packets for the fuzzer, derived from valid knocks or from nothing. Every generator
 * takes the PRNG so a run is reproducible from its seed (valid seed knocks aside, which carry
 * fresh random salts). None of these is a validly signed access request.
 */
import { randomBytes } from "node:crypto";
import { sealPlaintext } from "../../src/protocol/spa.js";
import type { BenchKeys } from "../../test/helpers/bench-knock.js";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** HMAC-SHA-256 in unpadded base64, the tail of every seed packet. */
const HMAC_CHARS = 43;

export type Rng = () => number;

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;

function b64(r: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += B64[Math.floor(r() * 64)];
  return s;
}

function bytes(r: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export interface Ctx {
  r: Rng;
  seeds: readonly string[];
  keys: BenchKeys;
}

type Gen = (c: Ctx) => Buffer;

/** Named generators; the fuzzer cycles through them with these weights. */
export const GENERATORS: Record<string, { weight: number; gen: Gen }> = {
  "bit-flip": {
    weight: 20,
    gen: ({ r, seeds }) => {
      const b = Buffer.from(pick(r, seeds));
      for (let n = int(r, 1, 8); n > 0; n--) {
        const i = int(r, 0, b.length - 1);
        b[i] = (b[i] as number) ^ (1 << int(r, 0, 7));
      }
      return b;
    },
  },
  "b64-substitute": {
    // Stays inside the base64 alphabet, so the packet reaches the HMAC check.
    weight: 20,
    gen: ({ r, seeds }) => {
      const s = pick(r, seeds).split("");
      for (let n = int(r, 1, 4); n > 0; n--)
        s[int(r, 0, s.length - 1)] = B64[int(r, 0, 63)] as string;
      return Buffer.from(s.join(""));
    },
  },
  truncate: {
    weight: 10,
    gen: ({ r, seeds }) => {
      const s = pick(r, seeds);
      return Buffer.from(s.slice(0, int(r, 0, s.length - 1)));
    },
  },
  extend: {
    weight: 5,
    gen: ({ r, seeds }) => Buffer.from(pick(r, seeds) + b64(r, int(r, 1, 64))),
  },
  "field-swap": {
    // The ciphertext of one knock with the HMAC of another, or two ciphertext blocks swapped.
    weight: 10,
    gen: ({ r, seeds }) => {
      const a = pick(r, seeds);
      const b = pick(r, seeds);
      if (r() < 0.5) return Buffer.from(a.slice(0, -HMAC_CHARS) + b.slice(-HMAC_CHARS));
      const body = a.slice(0, -HMAC_CHARS);
      const i = int(r, 0, Math.max(0, body.length - 33));
      const j = int(r, 0, Math.max(0, body.length - 33));
      const blocks = body.split("");
      for (let k = 0; k < 16 && i + k < body.length && j + k < body.length; k++) {
        blocks[i + k] = body[j + k] as string;
        blocks[j + k] = body[i + k] as string;
      }
      return Buffer.from(blocks.join("") + a.slice(-HMAC_CHARS));
    },
  },
  "random-b64": {
    weight: 15,
    gen: ({ r }) =>
      Buffer.from(b64(r, int(r, 0, 1600)) + (r() < 0.3 ? "=".repeat(int(r, 1, 2)) : "")),
  },
  "random-bytes": { weight: 5, gen: ({ r }) => bytes(r, int(r, 0, 1500)) },
  oversized: {
    // Larger than any SPA packet; some larger than the 1500 bytes fwknopd reads at all.
    weight: 3,
    gen: ({ r, seeds }) =>
      Buffer.from(r() < 0.5 ? pick(r, seeds).repeat(int(r, 4, 40)) : b64(r, int(r, 1501, 9000))),
  },
  prefix: {
    // Re-adding the stripped constant prefix must not turn a knock back into a valid one.
    weight: 8,
    gen: ({ r, seeds }) => {
      const s = pick(r, seeds);
      const tricks = [
        `U2FsdGVkX1${s}`,
        `U2FsdGVkX1${s.slice(10)}`,
        `hQ${s}`,
        ` ${s}`,
        `${s}\n`,
        `${s.slice(0, 50)}\0${s.slice(50)}`,
        `${s}${s}`,
        s.replace(/[A-Za-z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())),
      ];
      return Buffer.from(pick(r, tricks));
    },
  },
  "signed-garbage": {
    // Encrypted and HMAC-signed with the real keys, but the plaintext is junk: the decoder must
    // refuse what the cryptography lets through.
    weight: 4,
    gen: ({ r, keys }) => {
      const sealed = sealPlaintext(
        r() < 0.5 ? bytes(r, int(r, 36, 300)) : Buffer.from(`${b64(r, 40)}:${b64(r, 43)}`),
        {
          encKey: Buffer.from(keys.key, "base64"),
          encMode: "CBC",
          hmacKey: Buffer.from(keys.hmac, "base64"),
          hmacType: "sha256",
        },
        { salt: randomBytes(8) },
      );
      return Buffer.from(sealed.ok ? sealed.value.wire : b64(r, 200));
    },
  },
};

const table: { name: string; gen: Gen }[] = Object.entries(GENERATORS).flatMap(([name, g]) =>
  Array.from({ length: g.weight }, () => ({ name, gen: g.gen })),
);

/**
 * One hostile packet. A mutation can undo itself (a character substituted by itself, a
 * knock's HMAC swapped with its own); such a packet is the valid seed again, so it is redrawn.
 */
export function nextCase(c: Ctx): { name: string; packet: Buffer } {
  for (let tries = 0; tries < 100; tries++) {
    const g = pick(c.r, table);
    const packet = g.gen(c);
    if (!c.seeds.includes(packet.toString("latin1"))) return { name: g.name, packet };
  }
  return { name: "random-b64", packet: Buffer.from(b64(c.r, 200)) };
}
