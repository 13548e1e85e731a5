/**
 * An open-addressing hash table from an id pair (a, b) to a dense pair index 0, 1, 2, …, on typed
 * arrays: no per-entry objects and no number boxing in the trainer's and encoder's hot loops.
 *
 * @module
 */

/**
 * Pair → dense index. Entries are never removed.
 *
 * @example
 * ```ts
 * import { PairTable } from "./pair_table.ts";
 * const table = new PairTable();
 * console.assert(table.add(3, 4) === 0 && table.add(5, 6) === 1 && table.add(3, 4) === 0);
 * console.assert(table.get(5, 6) === 1 && table.get(6, 5) === -1);
 * console.assert(table.left[1] === 5 && table.right[1] === 6 && table.size === 2);
 * ```
 */
export class PairTable {
  /** Left id of pair `i`. */
  left: Int32Array;
  /** Right id of pair `i`. */
  right: Int32Array;
  /** Number of pairs. */
  size = 0;
  #slots: Int32Array; // pair index + 1 per slot, 0 = empty
  #mask: number;

  /** @param capacity Expected number of pairs (the table grows past it). */
  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Int32Array(slots);
    this.#mask = slots - 1;
    this.left = new Int32Array(Math.max(16, capacity));
    this.right = new Int32Array(Math.max(16, capacity));
  }

  #hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 7;
  }

  /** The index of pair (a, b), or -1 if absent. */
  get(a: number, b: number): number {
    const slots = this.#slots, mask = this.#mask;
    for (let s = this.#hash(a, b) & mask;; s = (s + 1) & mask) {
      const e = slots[s]!;
      if (e === 0) return -1;
      if (this.left[e - 1] === a && this.right[e - 1] === b) return e - 1;
    }
  }

  /** The index of pair (a, b), inserted with the next free index if absent. */
  add(a: number, b: number): number {
    const mask = this.#mask;
    let s = this.#hash(a, b) & mask;
    for (;; s = (s + 1) & mask) {
      const e = this.#slots[s]!;
      if (e === 0) break;
      if (this.left[e - 1] === a && this.right[e - 1] === b) return e - 1;
    }
    const index = this.size++;
    if (index >= this.left.length) this.#growArrays();
    this.left[index] = a;
    this.right[index] = b;
    this.#slots[s] = index + 1;
    if (this.size * 2 > this.#slots.length) this.#rehash();
    return index;
  }

  #growArrays(): void {
    const left = new Int32Array(this.left.length * 2), right = new Int32Array(this.left.length * 2);
    left.set(this.left);
    right.set(this.right);
    this.left = left;
    this.right = right;
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2), mask = slots.length - 1;
    for (let i = 0; i < this.size; i++) {
      let s = this.#hash(this.left[i]!, this.right[i]!) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
