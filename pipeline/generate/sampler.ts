/**
 * Choosing the next token from logits: greedy (argmax), or a seeded draw from the softmax at a
 * temperature, restricted to the `k` most likely tokens (top-k) and then to the smallest set whose
 * probability reaches `p` (top-p, nucleus sampling; Holtzman et al. 2019, arXiv 1904.09751).
 * The arithmetic is float64; the generator is mulberry32, so a seed gives the same tokens on every
 * backend whose logits agree.
 *
 * @module
 */

/** How to pick tokens. */
export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax, no randomness). */
  temperature: number;
  /** Keep only the k most likely tokens (0: all). */
  topK: number;
  /** Keep the smallest most-likely set whose probability reaches p (1: all). */
  topP: number;
  /** Seed of the random stream (ignored when greedy). */
  seed: number;
}

/** Greedy decoding: always the most likely token. */
export const GREEDY: Readonly<SamplingOptions> = { temperature: 0, topK: 0, topP: 1, seed: 0 };

/**
 * Index of the largest value; ties go to the lowest index.
 *
 * @example
 * ```ts
 * import { argmax } from "./sampler.ts";
 * console.assert(argmax([0.1, 3, 3, -1]) === 1);
 * ```
 */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * The distribution tokens are drawn from: softmax(logits / temperature), then top-k, then top-p,
 * renormalized; tokens filtered out get probability 0. Ties at the top-k boundary keep the lower
 * indices. With temperature 0 it is one-hot at the argmax.
 *
 * @param logits Scores of every token.
 * @param options Temperature, top-k and top-p (the seed is not used).
 * @returns Probabilities in float64, summing to 1.
 * @throws {RangeError} If an option is out of range or a logit is NaN.
 *
 * @example
 * ```ts
 * import { samplingDistribution } from "./sampler.ts";
 * const p = samplingDistribution([2, 1, 0], { temperature: 1, topK: 2, topP: 1 });
 * console.assert(p[2] === 0 && Math.abs(p[0]! - 1 / (1 + Math.exp(-1))) < 1e-12);
 * ```
 */
export function samplingDistribution(
  logits: ArrayLike<number>,
  options: Omit<SamplingOptions, "seed">,
): Float64Array {
  checkOptions(options);
  const n = logits.length;
  const probs = new Float64Array(n);
  if (options.temperature === 0) {
    probs[argmax(logits)] = 1;
    return probs;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(logits[i])) throw new RangeError(`Cannot sample: logit ${i} is NaN`);
    max = Math.max(max, logits[i]!);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += probs[i] = Math.exp((logits[i]! - max) / options.temperature);
  for (let i = 0; i < n; i++) probs[i]! /= sum;
  if (options.topK > 0 && options.topK < n) keepTopK(probs, options.topK);
  if (options.topP < 1) keepTopP(probs, options.topP);
  return probs;
}

/** Zeroes all but the k largest (ties: lower index first) and renormalizes. */
function keepTopK(probs: Float64Array, k: number): void {
  const threshold = Float64Array.from(probs).sort()[probs.length - k]!;
  let above = 0;
  for (const p of probs) if (p > threshold) above++;
  let tiesLeft = k - above, sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const keep = probs[i]! > threshold || (probs[i] === threshold && tiesLeft-- > 0);
    if (keep) sum += probs[i]!;
    else probs[i] = 0;
  }
  for (let i = 0; i < probs.length; i++) probs[i]! /= sum;
}

/**
 * Keeps the smallest most-likely set whose mass reaches `p` (at least one token) and
 * renormalizes. Subtle: only tokens at or above a cutoff `c` are sorted, with `c` lowered until
 * they hold mass ≥ p — the nucleus then lies among them, since every token ranked above its last
 * member is at least as likely. That avoids sorting the whole vocabulary for every token.
 */
function keepTopP(probs: Float64Array, p: number): void {
  let max = 0;
  for (const q of probs) max = Math.max(max, q);
  let candidates: number[] = [];
  for (let cutoff = max / 64;; cutoff /= 64) {
    candidates = [];
    let mass = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i]! >= cutoff && probs[i]! > 0) {
        candidates.push(i);
        mass += probs[i]!;
      }
    }
    if (mass >= p || cutoff === 0) break;
    if (cutoff < Number.MIN_VALUE * 64) cutoff = 0;
  }
  candidates.sort((a, b) => probs[b]! - probs[a]! || a - b);
  const keep = new Uint8Array(probs.length);
  let mass = 0;
  for (const i of candidates) {
    keep[i] = 1;
    mass += probs[i]!;
    if (mass >= p) break;
  }
  for (let i = 0; i < probs.length; i++) probs[i] = keep[i] ? probs[i]! / mass : 0;
}

function checkOptions(o: Omit<SamplingOptions, "seed">): void {
  if (!(o.temperature >= 0 && Number.isFinite(o.temperature))) {
    throw new RangeError(`Invalid temperature ${o.temperature}: expected a finite number ≥ 0`);
  }
  if (!(Number.isInteger(o.topK) && o.topK >= 0)) {
    throw new RangeError(`Invalid top-k ${o.topK}: expected an integer ≥ 0 (0: off)`);
  }
  if (!(o.topP > 0 && o.topP <= 1)) {
    throw new RangeError(`Invalid top-p ${o.topP}: expected a number in (0, 1]`);
  }
}

/**
 * Draws tokens with {@linkcode samplingDistribution} and a seeded generator: one uniform number
 * per token, inverted through the cumulative distribution in index order.
 *
 * @example
 * ```ts
 * import { Sampler } from "./sampler.ts";
 * const options = { temperature: 1, topK: 0, topP: 0.9, seed: 42 };
 * const a = new Sampler(options), b = new Sampler(options);
 * const logits = [1, 2, 3, 0.5];
 * for (let i = 0; i < 5; i++) console.assert(a.next(logits) === b.next(logits));
 * ```
 */
export class Sampler {
  #state: number;

  /** @throws {RangeError} If an option is out of range. */
  constructor(readonly options: Readonly<SamplingOptions>) {
    checkOptions(options);
    this.#state = options.seed >>> 0;
  }

  /** The next token id for these logits. */
  next(logits: ArrayLike<number>): number {
    if (this.options.temperature === 0) return argmax(logits);
    const probs = samplingDistribution(logits, this.options);
    const u = this.#uniform();
    let cumulative = 0, lastKept = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] === 0) continue;
      cumulative += probs[i]!;
      lastKept = i;
      if (u < cumulative) return i;
    }
    return lastKept; // u within rounding of 1
  }

  /** mulberry32: a uniform number in [0, 1). */
  #uniform(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), this.#state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
