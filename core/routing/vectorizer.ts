/**
 * The router's feature vector: sublinear TF-IDF over hashed n-grams, L2-normalised, followed by
 * the structural and function-word signals of `signals.ts` at a fixed scale.
 *
 * Columns: only hash buckets seen in training get a column (the rest can only ever have zero
 * weight), so `[0, buckets.length)` are n-gram columns and the next `SIGNAL_NAMES.length` columns
 * are signals.
 *
 * @module
 */
import { CountScratch, hashedCounts, type HashingConfig, normalizeText } from "./features.ts";
import { SIGNAL_NAMES, signalIndices } from "./text_signals.ts";
import type { SparseVector } from "./sparse.ts";

/** Sublinear term frequency 1 + ln(tf) for small counts (tf = 0 unused). */
const SUBLINEAR = Float64Array.from({ length: 64 }, (_, tf) => 1 + Math.log(Math.max(tf, 1)));

/** Everything needed to turn text into a vector; stored in the model file. */
export interface VectorizerState {
  hashing: HashingConfig;
  /**
   * Hash bucket of each n-gram column. `fit` orders them by document frequency, most frequent
   * first, so that the weight rows touched by almost every text share a few cache lines.
   */
  buckets: Int32Array;
  /** Inverse document frequency per n-gram column: ln((1 + N) / (1 + df)) + 1. */
  idf: Float32Array;
  /** Value of a firing signal (an n-gram vector has L2 norm 1). */
  signalScale: number;
}

/** Raw hashed counts of one text plus its signals, before weighting. */
export interface CountedText {
  buckets: Int32Array;
  counts: Int32Array;
  signals: number[];
}

/**
 * Turns texts into TF-IDF + signal vectors; build with {@linkcode Vectorizer.fit} or from a saved
 * state.
 *
 * @example
 * ```ts
 * import { Vectorizer } from "./vectorizer.ts";
 * const hashing = { bits: 16, charMin: 1, charMax: 3, words: true };
 * const v = Vectorizer.fit(["the cat", "def f(x):"].map((t) => Vectorizer.count(t, hashing)), hashing, 0.5);
 * const x = v.transform("the dog");
 * console.assert(x.indices.length > 0 && x.indices.length === x.values.length);
 * ```
 */
export class Vectorizer {
  readonly state: VectorizerState;
  readonly #column: Int32Array;
  readonly #scratch: CountScratch;

  constructor(state: VectorizerState) {
    const size = 1 << state.hashing.bits;
    if (state.idf.length !== state.buckets.length) {
      throw new RangeError(
        `idf has ${state.idf.length} values for ${state.buckets.length} buckets`,
      );
    }
    this.state = state;
    this.#column = new Int32Array(size).fill(-1);
    state.buckets.forEach((b, i) => {
      if (b < 0 || b >= size) throw new RangeError(`Bucket ${b} is outside [0, ${size})`);
      this.#column[b] = i;
    });
    this.#scratch = new CountScratch();
  }

  /** Number of columns (n-gram columns + signals). */
  get dimension(): number {
    return this.state.buckets.length + SIGNAL_NAMES.length;
  }

  /** Counts a text's hashed n-grams and signals (the expensive part, done once per text). */
  static count(text: string, hashing: HashingConfig, scratch?: CountScratch): CountedText {
    const { buckets, counts } = hashedCounts(
      normalizeText(text),
      hashing,
      scratch ?? new CountScratch(),
    );
    return { buckets, counts, signals: signalIndices(text) };
  }

  /**
   * Fits document frequencies on counted training texts.
   *
   * @param counted Counted texts (see {@linkcode Vectorizer.count}).
   * @param hashing The hashing config they were counted with.
   * @param signalScale Value of a firing signal.
   * @param minDf Buckets seen in fewer texts get no column.
   */
  static fit(
    counted: readonly CountedText[],
    hashing: HashingConfig,
    signalScale: number,
    minDf = 1,
  ): Vectorizer {
    const df = new Int32Array(1 << hashing.bits);
    for (const c of counted) for (const b of c.buckets) df[b]!++;
    const buckets: number[] = [];
    for (let b = 0; b < df.length; b++) if (df[b]! >= minDf) buckets.push(b);
    // Frequent n-grams first (ties by bucket, for determinism): the hot weight rows then sit
    // together, which makes training and prediction markedly faster than bucket order.
    buckets.sort((a, b) => df[b]! - df[a]! || a - b);
    const n = counted.length;
    const idf = Float32Array.from(buckets, (b) => Math.log((1 + n) / (1 + df[b]!)) + 1);
    return new Vectorizer({ hashing, buckets: Int32Array.from(buckets), idf, signalScale });
  }

  /** The vector of a counted text. */
  weigh(c: CountedText): SparseVector {
    const { idf, buckets, signalScale } = this.state;
    const size = c.buckets.length + c.signals.length;
    const indices = new Int32Array(size);
    const values = new Float32Array(size);
    let n = 0;
    let norm = 0;
    for (let k = 0; k < c.buckets.length; k++) {
      const col = this.#column[c.buckets[k]!]!;
      if (col < 0) continue;
      const tf = c.counts[k]!;
      const v = (tf < SUBLINEAR.length ? SUBLINEAR[tf]! : 1 + Math.log(tf)) * idf[col]!;
      indices[n] = col;
      values[n++] = v;
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < n; k++) values[k]! *= inv;
    for (const s of c.signals) {
      indices[n] = buckets.length + s;
      values[n++] = signalScale;
    }
    return { indices: indices.subarray(0, n), values: values.subarray(0, n) };
  }

  /** The vector of a raw text. */
  transform(text: string): SparseVector {
    return this.weigh(Vectorizer.count(text, this.state.hashing, this.#scratch));
  }
}
