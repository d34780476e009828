/**
 * Junk the benchmark throws at the daemons, by what it costs the daemon to refuse it. An
 * attacker picks the most expensive shape, so the benchmark floods with that one:
 *
 * - `rijndael-hmac`: 399 base64 characters shaped exactly like an AES packet with a SHA-256
 *   HMAC (356 characters of "ciphertext" + a 43-character "HMAC"). It passes every cheap check
 *   (size, charset, no replayed prefix, Rijndael by length), so it costs the replay digest
 *   (SHA-256 over the wire) and one HMAC-SHA-256 per matching stanza before it is refused.
 *   399 is the longest such text (checked: 399 characters end in an HMAC mismatch, 400 in "no
 *   decrypt mode"): from 400 on a packet is classed as GPG and a Rijndael-only stanza refuses
 *   it without any crypto.
 * - `random-b64`: random base64 text of 150–300 characters (the older benchmark's junk): the
 *   same checks on shorter text, so somewhat cheaper.
 * - `gpg-sized`: 1,000 base64 characters: classed as GPG by length, refused by a Rijndael
 *   stanza after the replay digest but without an HMAC.
 * - `binary`: 300 random bytes: refused by the charset check before any hash.
 */
import { randomBytes, randomInt } from "node:crypto";

export interface JunkShape {
  name: string;
  make(): Buffer;
}

/** Unpadded base64 text of exactly `n` characters from random bytes. */
function b64(n: number): string {
  return randomBytes(Math.ceil((n * 3) / 4) + 3)
    .toString("base64")
    .replace(/=+$/, "")
    .slice(0, n);
}

/** Text that a precheck would refuse as a replayed prefix is not junk of this shape. */
function notPrefixed(make: () => string): () => Buffer {
  return () => {
    for (;;) {
      const s = make();
      if (!s.startsWith("U2FsdGVkX1") && !s.startsWith("hQ")) return Buffer.from(s, "latin1");
    }
  };
}

export const JUNK_SHAPES: readonly JunkShape[] = [
  { name: "rijndael-hmac", make: notPrefixed(() => b64(356) + b64(43)) },
  { name: "random-b64", make: notPrefixed(() => b64(randomInt(150, 301))) },
  { name: "gpg-sized", make: notPrefixed(() => b64(1000)) },
  { name: "binary", make: () => randomBytes(300) },
];

export function junkShape(name: string): JunkShape {
  const s = JUNK_SHAPES.find((j) => j.name === name);
  if (!s) throw new Error(`unknown junk shape '${name}'`);
  return s;
}

/** `n` distinct packets of one shape, for a sender to cycle through. */
export function junkPool(shape: JunkShape, n: number): Buffer[] {
  return Array.from({ length: n }, () => shape.make());
}
