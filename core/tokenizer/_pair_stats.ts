/**
 * The trainer's bookkeeping: for every adjacent pair of ids, its weighted count and the words it
 * occurs in, on typed arrays ({@linkcode PairTable} gives each pair a dense index).
 *
 * @module
 */
import { PairHeap } from "./_heap.ts";
import { PairTable } from "./pair_table.ts";

/** Pair counts and occurrence lists. */
export class PairStats {
  /** Pair (a, b) ↔ dense index. */
  readonly pairs = new PairTable(1 << 16);
  /** Weighted count per pair index. */
  count = new Float64Array(1 << 16);
  /** Words containing each pair (may hold words that lost the pair since: re-checked on use). */
  readonly where: (number[] | undefined)[] = [];

  /**
   * Adds `c` occurrences of (a, b) in word `w`.
   *
   * @returns The pair's index.
   */
  add(a: number, b: number, w: number, c: number): number {
    const p = this.pairs.add(a, b);
    if (p >= this.count.length) {
      const grown = new Float64Array(this.count.length * 2);
      grown.set(this.count);
      this.count = grown;
    }
    this.count[p] = this.count[p]! + c;
    const list = this.where[p] ??= [];
    // subtle: words are visited one at a time, so a repeat can only be the last entry.
    if (list[list.length - 1] !== w) list.push(w);
    return p;
  }

  /** Removes `c` occurrences of (a, b), which must exist. */
  remove(a: number, b: number, c: number): void {
    const p = this.pairs.get(a, b);
    this.count[p] = this.count[p]! - c;
  }

  /** A max-heap of every pair by count, ties to the smaller (left, right). */
  heap(): PairHeap {
    const heap = new PairHeap((i, j) => {
      const { left, right } = this.pairs;
      return left[i]! < left[j]! || (left[i] === left[j] && right[i]! < right[j]!);
    });
    for (let p = 0; p < this.pairs.size; p++) heap.push(this.count[p]!, p);
    return heap;
  }

  /**
   * Pops the most frequent pair, skipping stale heap entries (pushed before the count changed).
   *
   * @returns Its index, or -1 when no pair is left.
   */
  popBest(heap: PairHeap): number {
    while (heap.size > 0) {
      const p = heap.topItem, stored = heap.topCount;
      heap.pop();
      if (stored === this.count[p]) return p;
      // subtle: a count that dropped is re-queued at its true value; one that grew was pushed
      // again when it grew, so this entry is just a leftover.
      if (this.count[p]! > 0 && this.count[p]! < stored) heap.push(this.count[p]!, p);
    }
    return -1;
  }
}
