/**
 * The canonical text of an SPA wire string, for the replay cache (issue 9, item 4).
 *
 * libfko's base64 decoder stops at the first `=` and ignores the bits of a last character that
 * do not complete a byte, so without an HMAC (which covers the exact text) `W`, `W=`, `W==…`
 * and a last character with other spare bits all decrypt to the same packet. Keying the replay
 * cache on the exact text let each variant in once more (fwknopd 2.6.10 too). The canonical text
 * is what the decoder actually reads, re-encoded: cut at the first `=`, spare bits cleared, a
 * dangling character dropped. Decoding starts with a re-added constant prefix (`U2FsdGVkX1`, or
 * `hQ` for GPG), both 2 characters past a 4-character boundary, so the quartets of the wire text
 * begin at offset 2 for either.
 *
 * A packet from any real client (ours, fwknop 2.6.10) is already canonical: its digest is the
 * one 2.6.10 writes to digest.cache, so those files stay valid both ways.
 */
import { b64Decode, b64uEncode } from "../crypto/base64.js";
import { replayDigest } from "./spa.js";

/** Two characters (12 bits) that put the wire text at a prefix's quartet offset. */
const ALIGN = "AA";

export function canonicalWire(wire: string): string {
  const eq = wire.indexOf("=");
  const text = eq < 0 ? wire : wire.slice(0, eq);
  const bytes = b64Decode(ALIGN + text);
  // Not base64 at all: the decoder refuses it too, so the exact text is as good as any.
  if (!bytes) return text;
  // "AA" plus the text re-encode to "AA" plus the canonical text (the first 12 bits are zero).
  return b64uEncode(bytes).slice(ALIGN.length);
}

/**
 * The two replay-cache keys of a wire string: `exact` (SHA-256 of the text as received, what
 * 2.6.10 records) and `canonical` (of canonicalWire). A packet is a replay when either is known.
 * The digest recorded for an accepted packet is `canonical` when no HMAC covered the text (so
 * every encoding variant of it is refused later) and `exact` when one did (variants fail the
 * HMAC anyway, and the exact text is what 2.6.10 would find).
 */
export function replayDigests(wire: string): { exact: string; canonical: string } {
  const exact = replayDigest(wire);
  const canon = canonicalWire(wire);
  return { exact, canonical: canon === wire ? exact : replayDigest(canon) };
}
