/**
 * Compact per-document memory for streaming passes: growable typed-array columns and a set of
 * 64-bit content keys. A document costs a few dozen bytes here, against hundreds as JS objects and
 * strings, which is what keeps balancing flat in memory on multi-gigabyte corpora.
 *
 * @module
 */

type TypedArray = Float64Array | Int32Array | Uint8Array;
type TypedArrayConstructor<T extends TypedArray> = new (length: number) => T;

/**
 * An append-only column of numbers backed by a typed array that doubles when full.
 *
 * @example
 * ```ts
 * import { Column } from "./columns.ts";
 * const sizes = new Column(Float64Array);
 * sizes.push(1.5);
 * sizes.push(2);
 * console.assert(sizes.length === 2 && sizes.get(1) === 2 && sizes.view()[0] === 1.5);
 * ```
 */
export class Column<T extends TypedArray> {
  #data: T;
  #length = 0;
  readonly #make: TypedArrayConstructor<T>;

  constructor(make: TypedArrayConstructor<T>, capacity = 1024) {
    this.#make = make;
    this.#data = new make(capacity);
  }

  /** Number of values pushed. */
  get length(): number {
    return this.#length;
  }

  /** Appends `value`. */
  push(value: number): void {
    if (this.#length === this.#data.length) {
      const grown = new this.#make(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#length++] = value;
  }

  /** The value at `index` (undefined past the end). */
  get(index: number): number | undefined {
    return index < this.#length ? this.#data[index] : undefined;
  }

  /** The pushed values as a typed-array view (no copy; invalidated by the next push). */
  view(): T {
    return this.#data.subarray(0, this.#length) as T;
  }
}

/**
 * A set of 64-bit keys (two 32-bit halves) in an open-addressing table: 8 bytes a slot, kept at
 * most half full. The key (0, 0) is reserved as the empty slot, so it is stored as (0, 1).
 *
 * @example
 * ```ts
 * import { KeySet64 } from "./columns.ts";
 * const seen = new KeySet64();
 * console.assert(seen.add(7, 9) === true && seen.add(7, 9) === false && seen.size === 1);
 * ```
 */
export class KeySet64 {
  #slots = new Uint32Array(2 * 4096);
  #size = 0;

  /** Number of keys stored. */
  get size(): number {
    return this.#size;
  }

  /** Adds the key; returns false if it was already present. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if (2 * (this.#size + 1) > this.#slots.length / 2) this.#grow();
    const added = KeySet64.#insert(this.#slots, hi >>> 0, lo >>> 0);
    if (added) this.#size++;
    return added;
  }

  static #insert(slots: Uint32Array, hi: number, lo: number): boolean {
    const mask = slots.length / 2 - 1;
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;; i = (i + 1) & mask) {
      const h = slots[2 * i]!;
      const l = slots[2 * i + 1]!;
      if (h === 0 && l === 0) {
        slots[2 * i] = hi;
        slots[2 * i + 1] = lo;
        return true;
      }
      if (h === hi && l === lo) return false;
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) KeySet64.#insert(this.#slots, old[i]!, old[i + 1]!);
    }
  }
}
