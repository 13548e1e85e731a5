/**
 * The shape every router classifier shares: a linear score per class over the sparse feature
 * vector, turned into probabilities by a softmax at a calibrated temperature.
 *
 * @module
 */
import { softmaxInPlace, sparseTimesDense, type SparseVector } from "./sparse.ts";

/**
 * The classifiers the router can train. `logistic-nb` is the product of the calibrated logistic
 * regression and the calibrated Naive Bayes model (their log-probabilities added, then
 * re-calibrated): logistic regression is the better classifier on long windows, Naive Bayes on
 * short ones, and the sum of two linear models is still one linear model.
 */
export type ClassifierKind = "logistic-nb" | "logistic" | "naive-bayes" | "centroid";

/** All classifier kinds, default first. */
export const CLASSIFIER_KINDS: readonly ClassifierKind[] = [
  "logistic-nb",
  "logistic",
  "naive-bayes",
  "centroid",
];

/** A linear classifier: `p = softmax((x·W + b) / temperature)`. */
export interface LinearModel {
  kind: ClassifierKind;
  /** Number of classes K. */
  classes: number;
  /** Row-major weights, `dimension × K`. */
  weights: Float32Array | Float64Array;
  /** One bias per class. */
  bias: Float64Array;
  /** Softmax temperature fitted on held-out windows (1 = uncalibrated). */
  temperature: number;
}

/**
 * Raw scores `x·W + b` (before temperature) into `out`.
 *
 * @param model The classifier.
 * @param x Feature vector.
 * @param out Receives K scores.
 * @returns `out`.
 *
 * @example
 * ```ts
 * import { scores } from "./linear.ts";
 * const model = { kind: "logistic" as const, classes: 2, weights: Float64Array.of(1, -1), bias: Float64Array.of(0, 0.5), temperature: 1 };
 * const s = scores(model, { indices: Int32Array.of(0), values: Float32Array.of(2) }, new Float64Array(2));
 * console.assert(s[0] === 2 && s[1] === -1.5);
 * ```
 */
export function scores(model: LinearModel, x: SparseVector, out: Float64Array): Float64Array {
  sparseTimesDense(x, model.weights, model.classes, out);
  for (let c = 0; c < model.classes; c++) out[c]! += model.bias[c]!;
  return out;
}

/**
 * Calibrated class probabilities of `x`.
 *
 * @param model The classifier.
 * @param x Feature vector.
 * @returns K probabilities summing to 1.
 *
 * @example
 * ```ts
 * import { probabilities } from "./linear.ts";
 * const model = { kind: "logistic" as const, classes: 2, weights: Float64Array.of(0, 0), bias: Float64Array.of(0, 0), temperature: 1 };
 * const p = probabilities(model, { indices: Int32Array.of(0), values: Float32Array.of(1) });
 * console.assert(p[0] === 0.5);
 * ```
 */
export function probabilities(model: LinearModel, x: SparseVector): Float64Array {
  const s = scores(model, x, new Float64Array(model.classes));
  for (let c = 0; c < s.length; c++) s[c]! /= model.temperature;
  return softmaxInPlace(s);
}
