/**
 * An open-addressing hash index over the rows of a key column: each row's key is the first
 * `keyWords` 32-bit words of a binary SHA-256, already uniformly spread, so word 0 picks the
 * home slot and word 1 supplies a tag. Shared by the in-memory digest table (whole digests) and
 * the loaded file rows (a digest prefix, confirmed against the file).
 */

export class DigestIndex {
  readonly #keyWords: number;
  /**
   * At most 2/3 full. A slot holds `(tag << rowBits) | (row + 1)`, 0 = empty; the tag (spare
   * high bits, from the key's second word) rejects almost every collision without touching the
   * key column, which would cost a cache miss per probe.
   */
  #slots = new Uint32Array(0);
  #mask = 0;
  #rowMask = 0;
  /** The slot `find` stopped at: the match, or the empty slot a new row would take. */
  lastSlot = -1;

  constructor(keyWords: number) {
    this.#keyWords = keyWords;
  }

  /** Sizes the index for up to `capacity` rows and empties it. */
  resize(capacity: number): void {
    let slots = 1024;
    while (slots < capacity * 1.5) slots *= 2;
    this.#slots = new Uint32Array(slots);
    this.#mask = slots - 1;
    // Row numbers up to capacity (stored + 1) need this many low bits; the rest is tag.
    const rowBits = Math.min(32, Math.ceil(Math.log2(capacity + 2)));
    this.#rowMask = rowBits === 32 ? 0xffffffff : 2 ** rowBits - 1;
  }

  /**
   * The row whose key (in `keys`) equals `q` and that `accept` takes, or -1; `lastSlot` is set
   * either way. `accept` lets a caller that keys on a prefix confirm the whole digest.
   */
  find(keys: Uint32Array, q: Uint32Array, accept?: (row: number) => boolean): number {
    const kw = this.#keyWords;
    const w0 = q[0] as number;
    const tag = this.#tagOf(q[1] as number);
    const rowMask = this.#rowMask;
    const slots = this.#slots;
    let slot = w0 & this.#mask;
    for (;;) {
      const v = slots[slot] as number;
      if (v === 0) break;
      if ((v & ~rowMask) >>> 0 === tag) {
        const row = (v & rowMask) - 1;
        let k = 0;
        const base = row * kw;
        while (k < kw && keys[base + k] === q[k]) k++;
        if (k === kw && (accept === undefined || accept(row))) {
          this.lastSlot = slot;
          return row;
        }
      }
      slot = (slot + 1) & this.#mask;
    }
    this.lastSlot = slot;
    return -1;
  }

  /** Points `slot` (an empty one from `find`) at `row`. */
  set(slot: number, keys: Uint32Array, row: number): void {
    this.#slots[slot] = (this.#tagOf(keys[row * this.#keyWords + 1] as number) | (row + 1)) >>> 0;
  }

  /**
   * Indexes rows [0, count) from scratch, visiting them ordered by home slot (a counting sort on
   * the slot's top bits) so the index is written nearly sequentially: inserting a million random
   * keys one by one costs a cache miss each, this is about 4× faster. `skip` leaves rows out;
   * `same(earlier, later)` decides whether two rows with equal keys are one digest (default:
   * yes). Returns per-row duplicate marks (1 = same digest as an earlier row, which keeps its
   * slot), or undefined if there are none.
   */
  build(
    keys: Uint32Array,
    count: number,
    skip?: (row: number) => boolean,
    same?: (a: number, b: number) => boolean,
  ): Uint8Array | undefined {
    this.#slots.fill(0);
    const kw = this.#keyWords;
    const mask = this.#mask;
    const shift = Math.max(0, Math.log2(mask + 1) - 12);
    const starts = new Uint32Array((mask >>> shift) + 2);
    for (let r = 0; r < count; r++) {
      const b = (((keys[r * kw] as number) & mask) >>> shift) + 1;
      starts[b] = (starts[b] as number) + 1;
    }
    for (let b = 1; b < starts.length; b++) {
      starts[b] = (starts[b] as number) + (starts[b - 1] as number);
    }
    // Rows in home-slot order, each with the rest of its home slot and its tag packed alongside
    // (tag bits above `shift`, which rowBits always leaves room for), so placing reads two
    // arrays in sequence instead of the key column at random.
    const order = new Uint32Array(count);
    const homeAndTag = new Uint32Array(count);
    const low = (1 << shift) - 1;
    const rowBits = 32 - Math.clz32(this.#rowMask);
    for (let r = 0; r < count; r++) {
      const home = (keys[r * kw] as number) & mask;
      const b = home >>> shift;
      const at = starts[b] as number;
      starts[b] = at + 1;
      order[at] = r;
      homeAndTag[at] = ((((keys[r * kw + 1] as number) >>> rowBits) << shift) | (home & low)) >>> 0;
    }
    let dup: Uint8Array | undefined;
    // After the scatter, starts[b] is where bucket b ends.
    let i = 0;
    for (let b = 0; b < starts.length - 1; b++) {
      for (const end = starts[b] as number; i < end; i++) {
        const r = order[i] as number;
        if (skip?.(r)) continue;
        const packed = homeAndTag[i] as number;
        const home = (b << shift) | (packed & low);
        const tag = rowBits === 32 ? 0 : ((packed >>> shift) << rowBits) >>> 0;
        const later = this.#place(keys, r, home, tag, same);
        if (later >= 0) {
          dup ??= new Uint8Array(count);
          dup[later] = 1;
        }
      }
    }
    return dup;
  }

  /**
   * Inserts row `r` (its home slot and tag given) during a build. When it duplicates a row
   * already placed, the earlier of the two keeps the slot and the later one is returned; else -1.
   */
  #place(
    keys: Uint32Array,
    r: number,
    home: number,
    tag: number,
    same?: (a: number, b: number) => boolean,
  ): number {
    const rowMask = this.#rowMask;
    const slots = this.#slots;
    let slot = home;
    for (;;) {
      const v = slots[slot] as number;
      if (v === 0) {
        slots[slot] = (tag | (r + 1)) >>> 0;
        return -1;
      }
      const other = (v & rowMask) - 1;
      if ((v & ~rowMask) >>> 0 === tag && this.#sameKey(keys, other, r)) {
        const a = Math.min(other, r);
        const b = Math.max(other, r);
        if (same === undefined || same(a, b)) {
          // Keep the earlier row: it carries the time the digest was first seen.
          slots[slot] = (tag | (a + 1)) >>> 0;
          return b;
        }
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  #sameKey(keys: Uint32Array, a: number, b: number): boolean {
    const kw = this.#keyWords;
    const x = a * kw;
    const y = b * kw;
    for (let k = 0; k < kw; k++) if (keys[x + k] !== keys[y + k]) return false;
    return true;
  }

  #tagOf(w1: number): number {
    return (w1 & ~this.#rowMask) >>> 0;
  }
}
