/**
 * The encoder's per-piece cache, keyed by a slice of the text being encoded rather than by a
 * substring: a hit costs one hash and one comparison over the slice's characters, with no string
 * allocated (V8 would otherwise create and hash a fresh substring for every piece).
 *
 * @module
 */

/** Piece text → its id (one token) or ids; cleared when `limit` entries are reached. */
export class PieceCache {
  #slots: Int32Array;
  #mask: number;
  #hashes: Int32Array;
  #keys: string[] = [];
  #values: (number | Int32Array)[] = [];
  readonly #limit: number;

  /** @param limit Most entries kept (a power of two). */
  constructor(limit = 1 << 18) {
    this.#limit = limit;
    this.#slots = new Int32Array(limit * 2);
    this.#mask = limit * 2 - 1;
    this.#hashes = new Int32Array(limit);
  }

  /** FNV-1a over the UTF-16 units of `text[start..end)`. */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    return h;
  }

  /** The value for `text[start..end)` (whose hash is `hash`), or undefined. */
  get(text: string, start: number, end: number, hash: number): number | Int32Array | undefined {
    const length = end - start;
    for (let s = hash & this.#mask;; s = (s + 1) & this.#mask) {
      const e = this.#slots[s]! - 1;
      if (e < 0) return undefined;
      if (this.#hashes[e] !== hash) continue;
      const key = this.#keys[e]!;
      if (key.length !== length) continue;
      let same = true;
      for (let k = 0; k < length && same; k++) {
        same = key.charCodeAt(k) === text.charCodeAt(start + k);
      }
      if (same) return this.#values[e];
    }
  }

  /** Stores `value` for `key` (absent from the cache) whose hash is `hash`. */
  set(key: string, hash: number, value: number | Int32Array): void {
    if (this.#keys.length === this.#limit) {
      this.#slots.fill(0);
      this.#keys = [];
      this.#values = [];
    }
    const e = this.#keys.length;
    this.#keys.push(key);
    this.#values.push(value);
    this.#hashes[e] = hash;
    let s = hash & this.#mask;
    while (this.#slots[s] !== 0) s = (s + 1) & this.#mask;
    this.#slots[s] = e + 1;
  }
}
