/**
 * Sparse vectors: sorted feature indices with their values. The router's feature vectors have a
 * few hundred non-zeros out of hundreds of thousands of buckets, so every model works on these.
 *
 * @module
 */

/**
 * A sparse vector: distinct `indices` (in no particular order: sorting costs more than it saves
 * here), `values[i]` belongs to `indices[i]`.
 */
export interface SparseVector {
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/**
 * The dot product of a sparse vector with row-major weights `w` (`classes` columns), written into
 * `out[0..classes)`: `out[c] = Σᵢ x[i] · w[i·classes + c]`.
 *
 * @param x The sparse vector.
 * @param w Row-major weights, one row of `classes` values per feature index.
 * @param classes Number of columns.
 * @param out Receives one score per class (overwritten).
 *
 * @example
 * ```ts
 * import { sparseTimesDense } from "./sparse.ts";
 * const x = { indices: Int32Array.of(1), values: Float32Array.of(2) };
 * const out = new Float64Array(2);
 * sparseTimesDense(x, Float64Array.of(0, 0, 3, 4), 2, out);
 * console.assert(out[0] === 6 && out[1] === 8);
 * ```
 */
export function sparseTimesDense(
  x: SparseVector,
  w: Float64Array | Float32Array,
  classes: number,
  out: Float64Array,
): void {
  out.fill(0);
  const { indices, values } = x;
  for (let k = 0; k < indices.length; k++) {
    const base = indices[k]! * classes;
    const v = values[k]!;
    for (let c = 0; c < classes; c++) out[c]! += v * w[base + c]!;
  }
}

/**
 * Softmax of `scores` in place, stable against overflow.
 *
 * @param scores Logits; replaced by probabilities that sum to 1.
 * @returns The same array.
 *
 * @example
 * ```ts
 * import { softmaxInPlace } from "./sparse.ts";
 * const p = softmaxInPlace(Float64Array.of(0, Math.log(3)));
 * console.assert(Math.abs(p[1]! - 0.75) < 1e-12);
 * ```
 */
export function softmaxInPlace(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (let c = 0; c < scores.length; c++) {
    const e = Math.exp(scores[c]! - max);
    scores[c] = e;
    sum += e;
  }
  for (let c = 0; c < scores.length; c++) scores[c]! /= sum;
  return scores;
}
