/**
 * The digests loaded from `digest.cache` at start-up, in as few bytes as a row can take: the
 * first 8 bytes of the binary SHA-256 (the lookup key), the time it was recorded and the byte
 * offset of its line in the file — 16 bytes a row plus the index, where keeping every column in
 * memory cost 50. The rest of an entry stays on disk: it is read back (one pread) only when a
 * key matches, which is a replay, and that read also confirms the whole digest, so the 8-byte
 * key never decides anything by itself. (A chance match of two 64-bit keys among a million
 * rows is about one in 10^7; it costs one extra read.)
 */
import { closeSync, readSync } from "node:fs";
import { DigestIndex } from "./digest-index.js";
import { DIGEST_CHARS, decodeDigest, FIELD, numberToIpv4 } from "./digest-table.js";
import { latin1, lineFields, lineText, scanLine } from "./file-line.js";
import type { ReplayEntry } from "./replay-cache.js";

const KEY_WORDS = 2;
/** Offsets are 32-bit: lines beyond 4 GiB (45 million entries) stay in the in-memory table. */
export const MAX_ROW_OFFSET = 0xffffffff;
/** Longer than any valid line (64-character digest, two 45-character addresses, numbers). */
const MAX_LINE = 512;
const NL = 10;

export class FileRows {
  #capacity: number;
  #count = 0;
  #keys: Uint32Array;
  #time: Uint32Array;
  #offset: Uint32Array;
  readonly #index = new DigestIndex(KEY_WORDS);
  /** Read-only descriptor of the file the offsets point into. */
  #fd: number | undefined;
  readonly #line = Buffer.alloc(MAX_LINE);
  readonly #query = new Uint32Array(8);
  readonly #queryBytes = new Uint8Array(this.#query.buffer);
  readonly #queryText = Buffer.alloc(DIGEST_CHARS);

  constructor(capacity: number, fd: number | undefined) {
    this.#capacity = Math.max(16, capacity);
    this.#keys = new Uint32Array(this.#capacity * KEY_WORDS);
    this.#time = new Uint32Array(this.#capacity);
    this.#offset = new Uint32Array(this.#capacity);
    this.#fd = fd;
  }

  get size(): number {
    return this.#count;
  }

  /** Closes the file the rows read from; later lookups of loaded rows count as matches. */
  close(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) closeSync(fd);
  }

  /**
   * Appends a row during the load: `key` holds the first 8 bytes of the binary SHA-256, and
   * `offset` (at most MAX_ROW_OFFSET) is where its line starts.
   */
  append(key: Uint32Array, time: number, offset: number): void {
    if (this.#count === this.#capacity) this.#grow();
    const r = this.#count++;
    const base = r * KEY_WORDS;
    for (let k = 0; k < KEY_WORDS; k++) this.#keys[base + k] = key[k] as number;
    this.#time[r] = time;
    this.#offset[r] = offset;
  }

  /** Builds the index once the load is done; drops repeated lines of one digest (keeps the first). */
  finish(): number {
    return this.#reindex();
  }

  /**
   * The entry of `digest` if a loaded row holds it. A row whose line can no longer be read
   * counts as a match: refusing a packet on a 64-bit key match is safe, accepting a replay is
   * not.
   */
  find(digest: string): ReplayEntry | undefined {
    if (this.#count === 0 || digest.length !== DIGEST_CHARS) return undefined;
    this.#queryText.write(digest, 0, "latin1");
    if (!decodeDigest(this.#queryText, 0, this.#queryBytes)) return undefined;
    let found: ReplayEntry | undefined;
    this.#index.find(this.#keys, this.#query, (row) => {
      const e = this.#readEntry(row);
      if (e !== undefined && e.digest !== digest) return false;
      found = e ?? this.#unreadable(row, digest);
      return true;
    });
    return found;
  }

  /** Length of row `r`'s line, read into `#line` (0 when it cannot be read). */
  #readLine(r: number): number {
    if (this.#fd === undefined) return 0;
    let n: number;
    try {
      n = readSync(this.#fd, this.#line, 0, MAX_LINE, this.#offset[r] as number);
    } catch {
      return 0;
    }
    const nl = this.#line.indexOf(NL);
    return nl >= 0 && nl < n ? nl : n;
  }

  #readEntry(row: number): ReplayEntry | undefined {
    const len = this.#readLine(row);
    const b = this.#line;
    if (len === 0 || scanLine(b, 0, len) < 0) return undefined;
    const f = lineFields;
    return {
      digest: latin1(b, lineText.digestStart, lineText.digestLength),
      proto: f[FIELD.proto] as number,
      srcIp: lineText.src ?? numberToIpv4(f[FIELD.src] as number),
      srcPort: f[FIELD.srcPort] as number,
      dstIp: lineText.dst ?? numberToIpv4(f[FIELD.dst] as number),
      dstPort: f[FIELD.dstPort] as number,
      time: f[FIELD.time] as number,
    };
  }

  /** What we still know of a row whose line is gone (file truncated or replaced under us). */
  #unreadable(row: number, digest: string): ReplayEntry {
    const time = this.#time[row] as number;
    return { digest, proto: 0, srcIp: "0.0.0.0", srcPort: 0, dstIp: "0.0.0.0", dstPort: 0, time };
  }

  #reindex(): number {
    this.#index.resize(this.#capacity);
    const dup = this.#index.build(this.#keys, this.#count, undefined, this.#sameDigest);
    if (!dup) return 0;
    const before = this.#count;
    let w = 0;
    for (let r = 0; r < before; r++) {
      if (dup[r] === 1) continue;
      if (w !== r) this.#move(r, w);
      w++;
    }
    this.#count = w;
    this.#index.build(this.#keys, w, undefined, this.#sameDigest);
    return before - w;
  }

  /** Rows with equal 8-byte keys are one digest twice, unless their lines say otherwise. */
  readonly #sameDigest = (a: number, b: number): boolean => {
    const x = this.#readEntry(a)?.digest;
    return x === undefined || x === this.#readEntry(b)?.digest;
  };

  #move(from: number, to: number): void {
    this.#keys.copyWithin(to * KEY_WORDS, from * KEY_WORDS, (from + 1) * KEY_WORDS);
    this.#time[to] = this.#time[from] as number;
    this.#offset[to] = this.#offset[from] as number;
  }

  #grow(): void {
    const cap = Math.ceil(this.#capacity * 1.5);
    const keys = new Uint32Array(cap * KEY_WORDS);
    keys.set(this.#keys);
    const time = new Uint32Array(cap);
    time.set(this.#time);
    const offset = new Uint32Array(cap);
    offset.set(this.#offset);
    this.#keys = keys;
    this.#time = time;
    this.#offset = offset;
    this.#capacity = cap;
  }
}
