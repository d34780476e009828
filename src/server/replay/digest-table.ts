/**
 * The in-memory side of the replay cache: digests recorded since start-up (and loaded ones that
 * are not canonical), as a column store with an open-addressing hash index. Digests loaded from
 * `digest.cache` live in the smaller FileRows instead.
 *
 * A million `Map<string, object>` entries cost several hundred MB and seconds of GC; here a row
 * costs 50 bytes (32 for the binary SHA-256, 18 for the other columns) plus 4-8 bytes of index.
 * Digests that are not canonical 43-character base64 (older digest types, hand edits) and
 * addresses that are not dotted quads (IPv6) go to small side maps instead.
 */
import { DigestIndex } from "./digest-index.js";
import type { ReplayEntry } from "./replay-cache.js";

const DIGEST_BYTES = 32;
const DIGEST_WORDS = DIGEST_BYTES / 4;
/** Length of an unpadded base64 SHA-256. */
export const DIGEST_CHARS = 43;

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** ASCII code → 6-bit value, or 255 for bytes outside the alphabet. */
const B64_VALUE = new Uint8Array(256).fill(255);
for (let i = 0; i < B64_ALPHABET.length; i++) B64_VALUE[B64_ALPHABET.charCodeAt(i)] = i;
/**
 * Two ASCII codes (first | second << 8) → their 12 bits, or -1. Halves the lookups when a
 * million digests load; 128 KiB, so it stays in cache.
 */
const B64_PAIR = new Int16Array(65536).fill(-1);
for (let a = 0; a < 64; a++) {
  for (let b = 0; b < 64; b++) {
    B64_PAIR[B64_ALPHABET.charCodeAt(a) | (B64_ALPHABET.charCodeAt(b) << 8)] = (a << 6) | b;
  }
}

/**
 * Decodes a canonical 43-character base64 SHA-256 from `src[start..start+43)` into `out`.
 * False when a byte is outside the alphabet or the two spare bits are set (then the text
 * would not round-trip, and the digest is kept verbatim instead).
 */
export function decodeDigest(src: Uint8Array, start: number, out: Uint8Array): boolean {
  if (src.length - start < DIGEST_CHARS || !decodeQuads(src, start, out, 10)) return false;
  const i = start + 40;
  const hi = B64_PAIR[(src[i] as number) | ((src[i + 1] as number) << 8)] as number;
  const c = B64_VALUE[src[i + 2] as number] as number;
  if (hi < 0 || c > 63 || (c & 3) !== 0) return false;
  out[30] = hi >>> 4;
  out[31] = ((hi & 15) << 4) | (c >>> 2);
  return true;
}

/**
 * The key of a loaded file row: the digest's first 12 characters decoded into 9 bytes of `out`
 * (the first 8 are the key). True when those characters are in the alphabet. The rest of the
 * digest is not decoded: a row only ever matches after its whole digest is read back from the
 * file and compared, and a digest whose tail is not canonical base64 can never equal one we
 * compute, so decoding it for a million lines would decide nothing.
 */
export function decodeDigestKey(src: Uint8Array, start: number, out: Uint8Array): boolean {
  return src.length - start >= DIGEST_CHARS && decodeQuads(src, start, out, KEY_CHARS / 4);
}

/** How many characters of a digest decodeDigestKey reads. */
export const KEY_CHARS = 12;

/** `quads` groups of four characters from `src[start..)` into three bytes each; false on a non-alphabet byte. */
function decodeQuads(src: Uint8Array, start: number, out: Uint8Array, quads: number): boolean {
  let o = 0;
  for (let i = start, end = start + 4 * quads; i < end; i += 4) {
    const hi = B64_PAIR[(src[i] as number) | ((src[i + 1] as number) << 8)] as number;
    const lo = B64_PAIR[(src[i + 2] as number) | ((src[i + 3] as number) << 8)] as number;
    if ((hi | lo) < 0) return false;
    out[o++] = hi >>> 4;
    out[o++] = ((hi & 15) << 4) | (lo >>> 8);
    out[o++] = lo & 0xff;
  }
  return true;
}

/** A dotted quad as an unsigned 32-bit number. */
export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Positions in `DigestTable.staged`. */
export const FIELD = { proto: 0, src: 1, srcPort: 2, dst: 3, dstPort: 4, time: 5 } as const;

/** An address column value: a dotted quad as a number, anything else verbatim. */
export type IpValue = number | string;

export class DigestTable {
  #capacity: number;
  #count = 0;
  #digests: Uint32Array;
  #digestBytes: Uint8Array;
  #proto: Uint8Array;
  #srcIp: Uint32Array;
  #dstIp: Uint32Array;
  #srcPort: Uint16Array;
  #dstPort: Uint16Array;
  #time: Uint32Array;
  readonly #index = new DigestIndex(DIGEST_WORDS);
  /** Digests kept verbatim (not canonical base64 SHA-256) → row. */
  #oddDigests = new Map<string, number>();
  #oddDigestOfRow = new Map<number, string>();
  /** Non-dotted-quad addresses: key row*2 (source) or row*2+1 (destination). */
  #ipText = new Map<number, string>();
  readonly #scratchWords = new Uint32Array(DIGEST_WORDS);
  readonly #scratch = new Uint8Array(this.#scratchWords.buffer);
  readonly #textScratch = Buffer.alloc(DIGEST_CHARS);
  #bulk = false;

  constructor(capacity: number) {
    this.#capacity = Math.max(16, capacity);
    this.#digests = new Uint32Array(this.#capacity * DIGEST_WORDS);
    this.#digestBytes = new Uint8Array(this.#digests.buffer);
    this.#proto = new Uint8Array(this.#capacity);
    this.#srcIp = new Uint32Array(this.#capacity);
    this.#dstIp = new Uint32Array(this.#capacity);
    this.#srcPort = new Uint16Array(this.#capacity);
    this.#dstPort = new Uint16Array(this.#capacity);
    this.#time = new Uint32Array(this.#capacity);
    this.#resetIndex();
  }

  get size(): number {
    return this.#count;
  }

  /** Numeric columns of the row `insertStaged`/`insertOdd` adds next, indexed by FIELD. */
  readonly staged = new Uint32Array(6);

  /** The digest `insertStaged` adds next; loaders decode straight into it. */
  get scratch(): Uint8Array {
    return this.#scratch;
  }

  /** Row holding this digest text, or -1. */
  find(digest: string): number {
    if (this.#decodeText(digest)) {
      return this.#index.find(this.#digests, this.#scratchWords);
    }
    return this.#oddDigests.get(digest) ?? -1;
  }

  /**
   * Bulk loading: rows are appended without touching the index, which `finishBulk` then builds
   * in slot order. Inserting a million random digests one by one costs a cache miss each;
   * building in order walks the index almost sequentially (about 4× faster).
   */
  beginBulk(): void {
    this.#bulk = true;
  }

  /** Builds the index after `beginBulk`; returns how many duplicate rows it dropped. */
  finishBulk(): number {
    this.#bulk = false;
    const dup = this.#buildIndex();
    if (!dup) return 0;
    const before = this.#count;
    this.#keepRows((r) => dup[r] === 0);
    return before - this.#count;
  }

  /**
   * Adds a row for the binary digest in `scratch` and the numbers in `staged` (see FIELD);
   * `srcText`/`dstText` replace addresses that are not dotted quads. False if already present.
   * Values travel through typed arrays because addresses and times exceed V8's small-integer
   * range: passed as arguments they would be boxed, one heap allocation each per line.
   */
  insertStaged(srcText?: string, dstText?: string): boolean {
    // Grow before probing: growing rebuilds the index and would invalidate the probed slot.
    if (this.#count === this.#capacity) this.#grow();
    const w = this.#scratchWords;
    let slot = -1;
    if (!this.#bulk) {
      if (this.#index.find(this.#digests, w) >= 0) return false;
      slot = this.#index.lastSlot;
    }
    const r = this.#count++;
    const d = this.#digests;
    const base = r * DIGEST_WORDS;
    for (let i = 0; i < DIGEST_WORDS; i++) d[base + i] = w[i] as number;
    this.#setColumns(r, srcText, dstText);
    if (slot >= 0) this.#index.set(slot, this.#digests, r);
    return true;
  }

  /** Adds a row for a digest given as text; false if it is already present. */
  insert(
    digest: string,
    proto: number,
    srcIp: IpValue,
    srcPort: number,
    dstIp: IpValue,
    dstPort: number,
    time: number,
  ): boolean {
    const f = this.staged;
    f[FIELD.proto] = proto;
    f[FIELD.src] = typeof srcIp === "number" ? srcIp : 0;
    f[FIELD.srcPort] = srcPort;
    f[FIELD.dst] = typeof dstIp === "number" ? dstIp : 0;
    f[FIELD.dstPort] = dstPort;
    f[FIELD.time] = time;
    const srcText = typeof srcIp === "string" ? srcIp : undefined;
    const dstText = typeof dstIp === "string" ? dstIp : undefined;
    if (this.#decodeText(digest)) return this.insertStaged(srcText, dstText);
    return this.insertOdd(digest, srcText, dstText);
  }

  /** Adds a row for a digest kept verbatim, with the numbers in `staged`. */
  insertOdd(digest: string, srcText?: string, dstText?: string): boolean {
    if (this.#oddDigests.has(digest)) return false;
    if (this.#count === this.#capacity) this.#grow();
    const r = this.#count++;
    this.#oddDigests.set(digest, r);
    this.#oddDigestOfRow.set(r, digest);
    this.#setColumns(r, srcText, dstText);
    return true;
  }

  entry(row: number): ReplayEntry {
    return {
      digest: this.digestText(row),
      proto: this.#proto[row] ?? 0,
      srcIp: this.#ipText.get(row * 2) ?? numberToIpv4(this.#srcIp[row] ?? 0),
      srcPort: this.#srcPort[row] ?? 0,
      dstIp: this.#ipText.get(row * 2 + 1) ?? numberToIpv4(this.#dstIp[row] ?? 0),
      dstPort: this.#dstPort[row] ?? 0,
      time: this.#time[row] ?? 0,
    };
  }

  digestText(row: number): string {
    const odd = this.#oddDigestOfRow.get(row);
    if (odd !== undefined) return odd;
    const off = row * DIGEST_BYTES;
    return Buffer.from(this.#digestBytes.buffer, off, DIGEST_BYTES)
      .toString("base64")
      .slice(0, DIGEST_CHARS);
  }

  /** Sizes the index for the current capacity and re-inserts every indexed row. */
  #resetIndex(): void {
    this.#index.resize(this.#capacity);
    // During a bulk load the index is built once, at the end.
    if (!this.#bulk) this.#buildIndex();
  }

  /** Indexes every row; returns per-row duplicate marks, or undefined if there are none. */
  #buildIndex(): Uint8Array | undefined {
    const odd = this.#oddDigestOfRow;
    return this.#index.build(
      this.#digests,
      this.#count,
      odd.size > 0 ? (r) => odd.has(r) : undefined,
    );
  }

  /** Compacts the columns in place, keeping row order, then rebuilds the index and side maps. */
  #keepRows(keep: (row: number) => boolean): void {
    const d = this.#digests;
    const oddOfRow = this.#oddDigestOfRow;
    const ipText = this.#ipText;
    this.#oddDigests = new Map();
    this.#oddDigestOfRow = new Map();
    this.#ipText = new Map();
    let w = 0;
    for (let r = 0; r < this.#count; r++) {
      if (!keep(r)) continue;
      if (w !== r) {
        d.copyWithin(w * DIGEST_WORDS, r * DIGEST_WORDS, (r + 1) * DIGEST_WORDS);
        this.#proto[w] = this.#proto[r] as number;
        this.#srcIp[w] = this.#srcIp[r] as number;
        this.#dstIp[w] = this.#dstIp[r] as number;
        this.#srcPort[w] = this.#srcPort[r] as number;
        this.#dstPort[w] = this.#dstPort[r] as number;
        this.#time[w] = this.#time[r] as number;
      }
      const odd = oddOfRow.get(r);
      if (odd !== undefined) {
        this.#oddDigests.set(odd, w);
        this.#oddDigestOfRow.set(w, odd);
      }
      const src = ipText.get(r * 2);
      if (src !== undefined) this.#ipText.set(w * 2, src);
      const dst = ipText.get(r * 2 + 1);
      if (dst !== undefined) this.#ipText.set(w * 2 + 1, dst);
      w++;
    }
    this.#count = w;
    this.#buildIndex();
  }

  #decodeText(digest: string): boolean {
    if (digest.length !== DIGEST_CHARS) return false;
    const bytes = this.#textScratch;
    bytes.write(digest, 0, "latin1");
    return decodeDigest(bytes, 0, this.#scratch);
  }

  #setColumns(r: number, srcText: string | undefined, dstText: string | undefined): void {
    const f = this.staged;
    this.#proto[r] = f[FIELD.proto] as number;
    this.#srcIp[r] = f[FIELD.src] as number;
    this.#srcPort[r] = f[FIELD.srcPort] as number;
    this.#dstIp[r] = f[FIELD.dst] as number;
    this.#dstPort[r] = f[FIELD.dstPort] as number;
    this.#time[r] = f[FIELD.time] as number;
    if (srcText !== undefined) this.#ipText.set(r * 2, srcText);
    if (dstText !== undefined) this.#ipText.set(r * 2 + 1, dstText);
  }

  #grow(): void {
    const cap = Math.ceil(this.#capacity * 1.5);
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
      per = 1,
    ): T => {
      const next = make(cap * per);
      next.set(old);
      return next;
    };
    this.#digests = grown(this.#digests, (n) => new Uint32Array(n), DIGEST_WORDS);
    this.#digestBytes = new Uint8Array(this.#digests.buffer);
    this.#proto = grown(this.#proto, (n) => new Uint8Array(n));
    this.#srcIp = grown(this.#srcIp, (n) => new Uint32Array(n));
    this.#dstIp = grown(this.#dstIp, (n) => new Uint32Array(n));
    this.#srcPort = grown(this.#srcPort, (n) => new Uint16Array(n));
    this.#dstPort = grown(this.#dstPort, (n) => new Uint16Array(n));
    this.#time = grown(this.#time, (n) => new Uint32Array(n));
    this.#capacity = cap;
    this.#resetIndex();
  }
}
