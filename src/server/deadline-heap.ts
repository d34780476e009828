/** The ledger's expiry schedule: a min-heap of deadlines (grants.ts). */

/** Binary min-heap of (deadline, key); entries may go stale and are skipped when popped. */
export class DeadlineHeap {
  readonly #items: { at: number; key: string }[] = [];

  push(at: number, key: string): void {
    this.#items.push({ at, key });
    let i = this.#items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at(parent) <= at) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  peek(): { at: number; key: string } | undefined {
    return this.#items[0];
  }

  pop(): { at: number; key: string } | undefined {
    const top = this.#items[0];
    const last = this.#items.pop();
    if (this.#items.length === 0 || last === undefined) return top;
    this.#items[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      let m = i;
      if (this.#at(l) < this.#at(m)) m = l;
      if (this.#at(l + 1) < this.#at(m)) m = l + 1;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }

  #at(i: number): number {
    return this.#items[i]?.at ?? Number.POSITIVE_INFINITY;
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i];
    const b = this.#items[j];
    if (a && b) {
      this.#items[i] = b;
      this.#items[j] = a;
    }
  }
}
