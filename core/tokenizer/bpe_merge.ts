/**
 * The BPE merge loop every tokenizer here shares: a word, as symbol ids, is merged by repeatedly
 * joining the adjacent pair of lowest merge rank, leftmost first — the order of Hugging Face
 * `tokenizers` (`Word::merge_all`). What the symbols are (bytes for byte-level BPE, characters and
 * `<0x..>` byte tokens for SentencePiece-style BPE) is the caller's business.
 *
 * @module
 */
import { PairHeap } from "./_heap.ts";
import { PairTable } from "./pair_table.ts";

const NONE = 0x7fffffff;
/**
 * From this many symbols on, a heap finds the lowest rank (O(n log n)) instead of a scan per merge
 * (O(n²)): pre-tokenizer pieces are short, but a SentencePiece layout without splitting hands the
 * model whole documents.
 */
const HEAP_FROM = 128;

/**
 * Merge rules and the loop that applies them.
 *
 * @example
 * ```ts
 * import { BpeMerges } from "./bpe_merge.ts";
 * // ids 0 = "a", 1 = "b", 2 = "c"; merge 0: (a, b) → 3 = "ab"; merge 1: (3, c) → 4 = "abc"
 * const merges = new BpeMerges(Int32Array.of(0, 1, 3, 2), Int32Array.of(3, 4), [0, 1, 2]);
 * const word = Int32Array.of(0, 1, 2, 0, 1);
 * const length = merges.apply(word, word.length);
 * console.assert(Array.from(word.subarray(0, length)).join() === "4,3");
 * ```
 */
export class BpeMerges {
  /** Number of merges. */
  readonly count: number;
  #ranks: PairTable;
  #mergeIds: Int32Array;
  /** 1 where merge `i` makes an id that existed before it (see `#scan`). */
  #reuses: Uint8Array;
  #rank = new Int32Array(1024);
  #fresh = new Uint8Array(1024);

  /**
   * Indexes the merges.
   *
   * @param merges Merge `i` joins ids `merges[2i]` and `merges[2i + 1]`; its rank is `i`.
   * @param mergeIds The id merge `i` makes.
   * @param initial Every id a word can start with (byte ids, or characters and byte tokens).
   * @throws {RangeError} If a merge repeats an earlier one.
   */
  constructor(merges: Int32Array, mergeIds: Int32Array, initial: ArrayLike<number>) {
    this.count = mergeIds.length;
    this.#mergeIds = mergeIds;
    this.#ranks = new PairTable(Math.max(1 << 10, this.count));
    this.#reuses = new Uint8Array(this.count);
    let maxId = 0;
    for (let i = 0; i < initial.length; i++) maxId = Math.max(maxId, initial[i]!);
    for (const id of merges) maxId = Math.max(maxId, id);
    for (const id of mergeIds) maxId = Math.max(maxId, id);
    const seen = new Uint8Array(maxId + 1);
    for (let i = 0; i < initial.length; i++) seen[initial[i]!] = 1;
    for (let i = 0; i < this.count; i++) {
      const a = merges[2 * i]!, b = merges[2 * i + 1]!, z = mergeIds[i]!;
      if (this.#ranks.add(a, b) !== i) {
        throw new RangeError(`Merge ${i} (${a}, ${b}) repeats an earlier merge`);
      }
      this.#reuses[i] = seen[z]!;
      seen[a] = seen[b] = seen[z] = 1;
    }
  }

  /** The rank of merge (a, b), or -1 if there is none. */
  rank(a: number, b: number): number {
    return this.#ranks.get(a, b);
  }

  /**
   * Merges a word in place.
   *
   * @param symbols The word's symbol ids in `symbols[0..length)`; overwritten with the result.
   * @param length Number of symbols.
   * @returns The number of symbols after merging.
   */
  apply(symbols: Int32Array, length: number): number {
    return length < HEAP_FROM ? this.#scan(symbols, length) : this.#heap(symbols, length);
  }

  /** Short words: each round finds the lowest rank by a scan and merges all its occurrences. */
  #scan(sym: Int32Array, length: number): number {
    if (this.#rank.length < length) {
      this.#rank = new Int32Array(length * 2);
      this.#fresh = new Uint8Array(length * 2);
    }
    const rank = this.#rank, fresh = this.#fresh, ranks = this.#ranks;
    // rank[i]: merge rank of (sym[i], sym[i + 1]), looked up again only where a neighbour changed.
    for (let i = 0; i + 1 < length; i++) rank[i] = ranks.get(sym[i]!, sym[i + 1]!) >>> 0 & NONE;
    while (length > 1) {
      let best = NONE;
      for (let i = 0; i + 1 < length; i++) if (rank[i]! < best) best = rank[i]!;
      if (best === NONE) break;
      // subtle: every occurrence of the best pair is merged in one left-to-right pass; pairs that
      // contain a new token rank later than `best`, so this equals merging one at a time. A merge
      // that reuses an older id could meet a lower-ranked pair, so it merges one occurrence only.
      const z = this.#mergeIds[best]!;
      let w = 0, more = true;
      for (let i = 0; i < length; i++) {
        if (more && rank[i] === best && i + 1 < length) {
          sym[w] = z;
          fresh[w++] = 1;
          i++;
          more = this.#reuses[best] === 0;
        } else {
          sym[w] = sym[i]!;
          rank[w] = rank[i]!;
          fresh[w++] = 0;
        }
      }
      length = w;
      for (let i = 0; i + 1 < length; i++) {
        if (fresh[i] || fresh[i + 1]) rank[i] = ranks.get(sym[i]!, sym[i + 1]!) >>> 0 & NONE;
      }
    }
    return length;
  }

  /**
   * Long words: Hugging Face's own loop — a heap of (rank, position), one merge at a time, a
   * popped entry skipped when its pair has changed since (compared by the id it would make, as
   * `tokenizers` does).
   */
  #heap(sym: Int32Array, length: number): number {
    const next = new Int32Array(length), prev = new Int32Array(length);
    const removed = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < length ? i + 1 : -1;
    }
    // Lowest rank first, then leftmost: the max-heap orders by -rank, ties by position.
    const heap = new PairHeap((p, q) => p < q);
    const push = (pos: number) => {
      const right = next[pos]!;
      const r = right < 0 ? -1 : this.#ranks.get(sym[pos]!, sym[right]!);
      if (r >= 0) heap.push(-r, pos);
    };
    for (let i = 0; i + 1 < length; i++) push(i);
    while (heap.size > 0) {
      const r = -heap.topCount, pos = heap.topItem;
      heap.pop();
      const right = next[pos]!;
      if (removed[pos] || right < 0) continue;
      const now = this.#ranks.get(sym[pos]!, sym[right]!);
      if (now < 0 || this.#mergeIds[now] !== this.#mergeIds[r]) continue;
      sym[pos] = this.#mergeIds[r]!;
      removed[right] = 1;
      next[pos] = next[right]!;
      if (next[pos]! >= 0) prev[next[pos]!] = pos;
      if (prev[pos]! >= 0) push(prev[pos]!);
      push(pos);
    }
    // Position 0 is never removed: only the right symbol of a pair is.
    let w = 0;
    for (let i = 0; i >= 0; i = next[i]!) sym[w++] = sym[i]!;
    return w;
  }
}
