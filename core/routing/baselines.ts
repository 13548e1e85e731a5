/**
 * Baseline classifiers for `moe router eval --compare`: multinomial Naive Bayes and nearest
 * centroid, both over the same feature vectors as logistic regression and both linear, so they
 * share {@linkcode LinearModel}.
 *
 * @module
 */
import type { LinearModel } from "./linear.ts";
import type { SparseVector } from "./sparse.ts";

/**
 * Multinomial Naive Bayes on (non-negative) feature values, Lidstone smoothing `alpha`:
 * `W[j, c] = log((Σ_{n∈c} x_nj + α) / (Σ_j Σ_{n∈c} x_nj + α·D))`, `b[c] = log prior(c)`.
 *
 * @param xs Feature vectors (non-negative values).
 * @param ys Class index of each vector.
 * @param classes Number of classes K.
 * @param dimension Number of feature columns D.
 * @param alpha Smoothing added to every feature count.
 * @returns The model (temperature 1).
 *
 * @example
 * ```ts
 * import { trainNaiveBayes } from "./baselines.ts";
 * import { probabilities } from "./linear.ts";
 * const x = (i: number) => ({ indices: Int32Array.of(i), values: Float32Array.of(1) });
 * const model = trainNaiveBayes([x(0), x(1)], Int32Array.of(0, 1), 2, 2, 0.1);
 * console.assert(probabilities(model, x(1))[1]! > 0.9);
 * ```
 */
export function trainNaiveBayes(
  xs: readonly SparseVector[],
  ys: Int32Array,
  classes: number,
  dimension: number,
  alpha = 0.01,
): LinearModel {
  const mass = new Float64Array(dimension * classes);
  const total = new Float64Array(classes);
  const prior = new Float64Array(classes);
  xs.forEach((x, n) => {
    const y = ys[n]!;
    prior[y]!++;
    for (let j = 0; j < x.indices.length; j++) {
      mass[x.indices[j]! * classes + y]! += x.values[j]!;
      total[y]! += x.values[j]!;
    }
  });
  const weights = new Float32Array(dimension * classes);
  for (let j = 0; j < dimension; j++) {
    for (let c = 0; c < classes; c++) {
      const i = j * classes + c;
      weights[i] = Math.log((mass[i]! + alpha) / (total[c]! + alpha * dimension));
    }
  }
  const bias = prior.map((p) => Math.log(Math.max(p, 1) / xs.length));
  return { kind: "naive-bayes", classes, weights, bias, temperature: 1 };
}

/**
 * Nearest centroid by cosine: each class's weight column is the mean of its vectors, scaled to
 * unit length; the score is the dot product with that centroid.
 *
 * @param xs Feature vectors.
 * @param ys Class index of each vector.
 * @param classes Number of classes K.
 * @param dimension Number of feature columns D.
 * @returns The model (temperature 1; calibration sets a sensible one).
 *
 * @example
 * ```ts
 * import { trainCentroid } from "./baselines.ts";
 * import { scores } from "./linear.ts";
 * const x = (i: number) => ({ indices: Int32Array.of(i), values: Float32Array.of(1) });
 * const model = trainCentroid([x(0), x(1)], Int32Array.of(0, 1), 2, 2);
 * const s = scores(model, x(0), new Float64Array(2));
 * console.assert(s[0]! > s[1]!);
 * ```
 */
export function trainCentroid(
  xs: readonly SparseVector[],
  ys: Int32Array,
  classes: number,
  dimension: number,
): LinearModel {
  const sum = new Float64Array(dimension * classes);
  xs.forEach((x, n) => {
    const y = ys[n]!;
    for (let j = 0; j < x.indices.length; j++) sum[x.indices[j]! * classes + y]! += x.values[j]!;
  });
  const norm = new Float64Array(classes);
  for (let i = 0; i < sum.length; i++) norm[i % classes]! += sum[i]! * sum[i]!;
  const weights = new Float32Array(dimension * classes);
  for (let i = 0; i < sum.length; i++) {
    const n = norm[i % classes]!;
    weights[i] = n > 0 ? sum[i]! / Math.sqrt(n) : 0;
  }
  return { kind: "centroid", classes, weights, bias: new Float64Array(classes), temperature: 1 };
}
