/**
 * Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): one
 * scalar T, fitted on held-out windows, divides every score so that the softmax's confidence
 * matches its accuracy. It never changes the predicted class.
 *
 * @module
 */
import { type LinearModel, scores } from "./linear.ts";
import type { SparseVector } from "./sparse.ts";

function meanNll(logits: Float64Array[], ys: Int32Array, t: number): number {
  let total = 0;
  logits.forEach((s, n) => {
    let max = -Infinity;
    for (const v of s) max = Math.max(max, v / t);
    let sum = 0;
    for (const v of s) sum += Math.exp(v / t - max);
    total += Math.log(sum) + max - s[ys[n]!]! / t;
  });
  return total / logits.length;
}

/**
 * The temperature T ∈ [1e-3, 1e3] minimising the mean negative log-likelihood of `ys`, by
 * golden-section search on log T (the NLL is convex in 1/T).
 *
 * @param model Classifier whose scores are calibrated (its own temperature is ignored).
 * @param xs Held-out vectors.
 * @param ys Their classes.
 * @returns The fitted temperature (1 when there is no held-out data).
 *
 * @example
 * ```ts
 * import { fitTemperature } from "./calibrate.ts";
 * const model = { kind: "logistic" as const, classes: 2, weights: Float64Array.of(5, -5), bias: new Float64Array(2), temperature: 1 };
 * const x = { indices: Int32Array.of(0), values: Float32Array.of(1) };
 * // Always right with score gap 10: calibration makes it even more confident (T < 1).
 * console.assert(fitTemperature(model, [x], Int32Array.of(0)) < 1);
 * ```
 */
export function fitTemperature(
  model: LinearModel,
  xs: readonly SparseVector[],
  ys: Int32Array,
): number {
  if (xs.length === 0) return 1;
  const logits = xs.map((x) => scores(model, x, new Float64Array(model.classes)));
  let lo = Math.log(1e-3), hi = Math.log(1e3);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
    if (meanNll(logits, ys, Math.exp(a)) < meanNll(logits, ys, Math.exp(b))) hi = b;
    else lo = a;
  }
  return Math.exp((lo + hi) / 2);
}
