/**
 * A binary max-heap of (count, pair index) on typed arrays, for the trainer's priority queue.
 * Ties are broken by a caller-given order so training is deterministic.
 *
 * @module
 */

/** Max-heap keyed by count; `before(i, j)` orders equal counts (true: `i` pops first). */
export class PairHeap {
  #counts = new Float64Array(1024);
  #items = new Int32Array(1024);
  #size = 0;
  readonly #before: (i: number, j: number) => boolean;

  /** @param before Tie-break between two pair indices of equal count. */
  constructor(before: (i: number, j: number) => boolean) {
    this.#before = before;
  }

  /** Number of entries (stale ones included). */
  get size(): number {
    return this.#size;
  }

  /** Count of the top entry (check {@linkcode size} first). */
  get topCount(): number {
    return this.#counts[0]!;
  }

  /** Pair index of the top entry (check {@linkcode size} first). */
  get topItem(): number {
    return this.#items[0]!;
  }

  #higher(x: number, y: number): boolean {
    const cx = this.#counts[x]!, cy = this.#counts[y]!;
    return cx > cy || (cx === cy && this.#before(this.#items[x]!, this.#items[y]!));
  }

  #swap(x: number, y: number): void {
    const c = this.#counts[x]!, i = this.#items[x]!;
    this.#counts[x] = this.#counts[y]!;
    this.#items[x] = this.#items[y]!;
    this.#counts[y] = c;
    this.#items[y] = i;
  }

  /** Adds `item` with priority `count`. */
  push(count: number, item: number): void {
    if (this.#size === this.#items.length) {
      const counts = new Float64Array(this.#size * 2), items = new Int32Array(this.#size * 2);
      counts.set(this.#counts);
      items.set(this.#items);
      this.#counts = counts;
      this.#items = items;
    }
    let x = this.#size++;
    this.#counts[x] = count;
    this.#items[x] = item;
    while (x > 0) {
      const parent = (x - 1) >> 1;
      if (!this.#higher(x, parent)) break;
      this.#swap(x, parent);
      x = parent;
    }
  }

  /** Removes the top entry. */
  pop(): void {
    const last = --this.#size;
    this.#swap(0, last);
    let x = 0;
    for (;;) {
      const l = 2 * x + 1, r = l + 1;
      let best = x;
      if (l < last && this.#higher(l, best)) best = l;
      if (r < last && this.#higher(r, best)) best = r;
      if (best === x) return;
      this.#swap(x, best);
      x = best;
    }
  }
}
