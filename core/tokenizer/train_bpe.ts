/**
 * Byte-level BPE training on de-duplicated word counts, with incremental pair-count updates and a
 * priority queue: after the initial count, a merge only touches the words that contain the merged
 * pair, and only the pairs next to each occurrence change (the Hugging Face `tokenizers` trainer's
 * algorithm; Sennrich et al. 2016 for BPE itself).
 *
 * @module
 */
import { PairStats } from "./_pair_stats.ts";

/** Options of {@linkcode trainBpe}. */
export interface TrainOptions {
  /** Tokens wanted: 256 bytes + merged tokens (the vocab size without special tokens). */
  vocabSize: number;
  /** A pair seen fewer times than this in the corpus is never merged. */
  minFrequency?: number;
  /** Called now and then with the number of tokens so far. */
  onProgress?: (tokens: number) => void;
}

/** What {@linkcode trainBpe} learned. Ids 0–255 are the bytes. */
export interface TrainedMerges {
  /** Merge `i` joins ids `merges[2i]` and `merges[2i + 1]` into id `mergeIds[i]`. */
  merges: Int32Array;
  /** The id each merge produces: usually `256 + i`, an older id when its bytes already exist. */
  mergeIds: Int32Array;
  /** Tokens reached (less than asked when the corpus ran out of pairs seen `minFrequency` times). */
  vocabSize: number;
}

/** Words of a corpus as UTF-8 byte sequences in one flat array, with their counts. */
interface WordTable {
  symbols: Int32Array;
  start: Int32Array;
  length: Int32Array;
  count: Float64Array;
}

function buildWords(wordCounts: Map<string, number>): WordTable {
  const encoder = new TextEncoder();
  let total = 0, n = 0;
  for (const word of wordCounts.keys()) total += word.length * 3;
  const bytes = new Uint8Array(total);
  const start = new Int32Array(wordCounts.size), length = new Int32Array(wordCounts.size);
  const count = new Float64Array(wordCounts.size);
  let at = 0;
  for (const [word, c] of wordCounts) {
    const { written } = encoder.encodeInto(word, bytes.subarray(at));
    // Words of one byte have no pair and can never change: leave them out.
    if (written < 2) continue;
    start[n] = at;
    length[n] = written;
    count[n++] = c;
    at += written;
  }
  return {
    symbols: Int32Array.from(bytes.subarray(0, at)),
    start: start.subarray(0, n),
    length: length.subarray(0, n),
    count: count.subarray(0, n),
  };
}

/**
 * Learns byte-level BPE merges from word counts. Pairs are chosen by count, ties by the smaller
 * (left id, right id), so the result is deterministic.
 *
 * @param wordCounts Pre-tokenizer pieces and how often each occurs.
 * @param options Vocab size, minimum pair frequency, progress.
 * @returns The merges in order.
 *
 * @example
 * ```ts
 * import { trainBpe } from "./train_bpe.ts";
 * const trained = trainBpe(new Map([["aaab", 3], ["ab", 1]]), { vocabSize: 258 });
 * // (a,a) is counted 6 times (overlapping occurrences count, as in Hugging Face); after that
 * // merge "aaab" is [256, a, b], and (a,b) at 4 beats (256,a) at 3.
 * const { merges, vocabSize } = trained;
 * console.assert(vocabSize === 258 && merges.join() === "97,97,97,98");
 * ```
 */
export function trainBpe(wordCounts: Map<string, number>, options: TrainOptions): TrainedMerges {
  const minFrequency = Math.max(1, options.minFrequency ?? 1);
  const words = buildWords(wordCounts);
  const wanted = Math.max(256, options.vocabSize);

  // Step 1: count every adjacent pair once, weighted by word count, remembering its words.
  const stats = new PairStats();
  for (let w = 0; w < words.start.length; w++) {
    for (let i = words.start[w]!, end = i + words.length[w]! - 1; i < end; i++) {
      stats.add(words.symbols[i]!, words.symbols[i + 1]!, w, words.count[w]!);
    }
  }

  // Step 2: a max-heap of pairs by count; entries go stale as counts change and are re-checked
  // when they reach the top, so no merge ever recounts the corpus.
  const heap = stats.heap();
  const vocab = new TokenKeys();
  const merges: number[] = [], mergeIds: number[] = [];
  while (vocab.size < wanted) {
    // Step 3: the most frequent pair, unless it is too rare.
    const best = stats.popBest(heap);
    if (best < 0 || stats.count[best]! < minFrequency) break;
    const a = stats.pairs.left[best]!, b = stats.pairs.right[best]!;
    const z = vocab.idOf(a, b);
    merges.push(a, b);
    mergeIds.push(z);

    // Step 4: rewrite the words that contain (a, b) and re-queue the pairs that gained.
    for (const p of mergeInWords(words, stats, best, z)) heap.push(stats.count[p]!, p);
    stats.count[best] = 0;
    stats.where[best] = undefined;
    if (options.onProgress && mergeIds.length % 256 === 0) options.onProgress(vocab.size);
  }
  options.onProgress?.(vocab.size);
  return {
    merges: Int32Array.from(merges),
    mergeIds: Int32Array.from(mergeIds),
    vocabSize: vocab.size,
  };
}

/** Token ids by their bytes (one char per byte), to spot a merge whose bytes already exist. */
class TokenKeys {
  #keys: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  #ids = new Map(this.#keys.map((key, id) => [key, id]));

  get size(): number {
    return this.#keys.length;
  }

  /** The id of the merge of `a` and `b`: a new one, or the existing token with those bytes. */
  idOf(a: number, b: number): number {
    // subtle: two merge paths can spell the same bytes ((ab)c and a(bc)); like Hugging Face, the
    // second one reuses the first one's id, so the vocab never holds one string twice.
    const key = this.#keys[a]! + this.#keys[b]!;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#keys.push(key) - 1;
      this.#ids.set(key, id);
    }
    return id;
  }
}

/**
 * Replaces (a, b) by `z` in every word that contains it, updating only the pairs next to each
 * occurrence.
 *
 * @returns Indices of the pairs whose count grew (they need a fresh heap entry).
 */
function mergeInWords(words: WordTable, stats: PairStats, best: number, z: number): Set<number> {
  const { symbols, start, length, count } = words;
  const a = stats.pairs.left[best]!, b = stats.pairs.right[best]!;
  const grown = new Set<number>();
  for (const w of stats.where[best] ?? []) {
    const s = start[w]!, c = count[w]!;
    let n = length[w]!;
    for (let i = s; i < s + n - 1; i++) {
      if (symbols[i] !== a || symbols[i + 1] !== b) continue;
      // subtle: the left neighbour is read after earlier rewrites in this word, so in "a b a b"
      // the second occurrence sees z on its left and takes back the (z, a) the first one added.
      if (i > s) {
        stats.remove(symbols[i - 1]!, a, c);
        grown.add(stats.add(symbols[i - 1]!, z, w, c));
      }
      if (i + 2 < s + n) {
        stats.remove(b, symbols[i + 2]!, c);
        grown.add(stats.add(z, symbols[i + 2]!, w, c));
      }
      symbols[i] = z;
      symbols.copyWithin(i + 1, i + 2, s + n);
      n--;
    }
    length[w] = n;
  }
  for (const p of grown) if (!(stats.count[p]! > 0)) grown.delete(p);
  return grown;
}
