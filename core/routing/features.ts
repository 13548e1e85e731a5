/**
 * Hashed n-gram counting: character n-grams (orders `charMin`..`charMax`) and word unigrams of a
 * normalised text, each hashed into one of `2^bits` buckets (the "hashing trick": no vocabulary
 * to store, unseen n-grams still land somewhere).
 *
 * Normalisation before hashing: lowercase (case is a poor cue across sources and prompts; the
 * case *ratio* survives as a signal); digits become spaces (numbers are topical: the training
 * novels have almost none and the code has many, so any digit n-gram would be learnt as "code");
 * a whitespace run with a line break becomes "\n", or "\n " when the next line is indented (hard
 * wrapped lines and indentation are what code and docstrings look like); other whitespace runs
 * become one space.
 *
 * @module
 */

/** How n-grams are extracted and hashed; stored in the model file. */
export interface HashingConfig {
  /** log2 of the number of hash buckets. */
  bits: number;
  /** Shortest character n-gram. */
  charMin: number;
  /** Longest character n-gram. */
  charMax: number;
  /** Whether word unigrams (runs of letters, digits and "_") are hashed too. */
  words: boolean;
}

/** The defaults: 2^20 buckets, character 1–4-grams, word unigrams. */
export const DEFAULT_HASHING: HashingConfig = { bits: 20, charMin: 1, charMax: 4, words: true };

/**
 * Lowercases, maps digits to "0" and collapses whitespace runs to one space.
 *
 * @param text Raw text.
 * @returns The normalised text.
 *
 * @example
 * ```ts
 * import { normalizeText } from "./features.ts";
 * console.assert(normalizeText("Année 1848,\n\n  Paris  x") === "année ,\n paris x");
 * ```
 */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\p{Nd}+/gu, " ").replace(/\s+/g, (ws) => {
    const nl = ws.lastIndexOf("\n");
    if (nl < 0) return " ";
    return nl < ws.length - 1 ? "\n " : "\n";
  });
}

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SEED = 0x9e3779b9;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** Whether the UTF-16 unit `code` at `text[i]` is part of a word (letter, digit or "_"). */
function isWordChar(code: number, text: string, i: number): boolean {
  if (code < 128) {
    return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95 ||
      (code >= 65 && code <= 90);
  }
  // Surrogate halves are treated as word characters (emoji and rare scripts stay one token).
  return (code >= 0xd800 && code <= 0xdfff) || WORD_CHAR.test(text[i]!);
}

/**
 * Reusable counting state for {@linkcode hashedCounts}: a small open-addressing table (bucket →
 * count) that grows to the largest text seen. Small enough to stay in cache, unlike one counter
 * per bucket (2^20 counters would cost a cache miss per n-gram).
 */
export class CountScratch {
  keys: Int32Array = new Int32Array(0);
  counts: Int32Array = new Int32Array(0);
  /** Table slots in use, to reset them afterwards. */
  slots: Int32Array = new Int32Array(0);

  /** Makes room for `entries` distinct buckets at load ≤ 1/2; empty keys are −1. */
  ensure(entries: number): void {
    let size = 64;
    while (size < 2 * entries) size *= 2;
    if (this.keys.length >= size) return;
    this.keys = new Int32Array(size).fill(-1);
    this.counts = new Int32Array(size);
    this.slots = new Int32Array(size);
  }

  /** Whether every slot is empty (the state between calls). */
  isClear(): boolean {
    return this.keys.every((k) => k === -1);
  }
}

/**
 * Counts the hashed n-grams of `text` (already normalised).
 *
 * Each character n-gram's hash is FNV-1a over its UTF-16 code units, extended one unit at a
 * time (so all orders at a position cost one pass), finalised with the order mixed in; word
 * unigrams use a different seed.
 *
 * @param text Normalised text (see {@linkcode normalizeText}).
 * @param config Hashing parameters.
 * @param scratch Counting state sized for `config.bits`; left zeroed on return.
 * @returns Distinct bucket indices (in order of first occurrence) and their counts.
 *
 * @example
 * ```ts
 * import { CountScratch, hashedCounts } from "./features.ts";
 * const config = { bits: 16, charMin: 1, charMax: 2, words: false };
 * const { counts } = hashedCounts("aa", config, new CountScratch());
 * // "a" twice, "aa" once.
 * console.assert([...counts].sort().join() === "1,2");
 * ```
 */
export function hashedCounts(
  text: string,
  config: HashingConfig,
  scratch: CountScratch,
): { buckets: Int32Array; counts: Int32Array } {
  const bucketMask = (1 << config.bits) - 1;
  const n = text.length;
  scratch.ensure(n * (config.charMax - config.charMin + 1) + n + 1);
  const { keys, counts, slots } = scratch;
  const slotMask = keys.length - 1;
  let used = 0;
  const add = (h: number) => {
    const b = h & bucketMask;
    // Linear probing from the hash's high bits (the low bits chose the bucket).
    let i = (h >>> 12) & slotMask;
    while (keys[i] !== b && keys[i] !== -1) i = (i + 1) & slotMask;
    if (keys[i] === -1) {
      keys[i] = b;
      slots[used++] = i;
    }
    counts[i]!++;
  };
  for (let i = 0; i < n; i++) {
    let h = FNV_OFFSET;
    for (let order = 1; order <= config.charMax && i + order <= n; order++) {
      h = Math.imul(h ^ text.charCodeAt(i + order - 1), FNV_PRIME);
      if (order >= config.charMin) add(fmix32(h ^ order));
    }
  }
  if (config.words) {
    let h = WORD_SEED, len = 0;
    for (let i = 0; i <= n; i++) {
      const code = i < n ? text.charCodeAt(i) : 32;
      if (isWordChar(code, text, i)) {
        h = Math.imul(h ^ code, FNV_PRIME);
        len++;
      } else if (len > 0) {
        add(fmix32(h ^ 0xff));
        h = WORD_SEED;
        len = 0;
      }
    }
  }
  const buckets = new Int32Array(used);
  const out = new Int32Array(used);
  for (let k = 0; k < used; k++) {
    const slot = slots[k]!;
    buckets[k] = keys[slot]!;
    out[k] = counts[slot]!;
    keys[slot] = -1;
    counts[slot] = 0;
  }
  return { buckets, counts: out };
}
