/**
 * The classifier of a router, fitted on vectorized training windows: logistic regression (from
 * zero or warm-started from Naive Bayes), Naive Bayes, a centroid baseline, or the product of
 * logistic regression and Naive Bayes (`logistic-nb`).
 *
 * @module
 */
import { trainCentroid, trainNaiveBayes } from "./baselines.ts";
import type { ClassifierKind, LinearModel } from "./linear.ts";
import { DEFAULT_LOGISTIC, trainLogistic } from "./logistic.ts";
import type { SparseVector } from "./sparse.ts";

/** The router-training options the fit reads (a `RouterTrainOptions` is one). */
export interface ClassifierOptions {
  classifier: ClassifierKind;
  /** L2 penalty of logistic regression. */
  l2: number;
  maxIterations: number;
  /** Stop L-BFGS when one iteration lowers the objective by less than this fraction. */
  tolerance: number;
  /** Logistic regression starts from the Naive Bayes weights times this (0: from zero). */
  warmStartScale: number;
  /** Progress callback: phase name, done, total. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** The fitted models (one, or the two experts of `logistic-nb`) and how L-BFGS ended. */
export interface ClassifierFit {
  models: LinearModel[];
  /** Logistic regression's iterations, evaluations and convergence; null without one. */
  iterations: number | null;
  evaluations: number | null;
  converged: boolean | null;
}

/**
 * Fits the classifier `o.classifier` on weighted windows.
 *
 * @param xs The windows' feature vectors.
 * @param ys Their class indices.
 * @param windows Their labels and sample weights.
 * @param classes Number of classes.
 * @param dimension Number of feature columns.
 * @param o The classifier and its fitting options.
 * @returns The models to combine and calibrate.
 */
export function fitClassifiers(
  xs: SparseVector[],
  ys: Int32Array,
  windows: { labels: readonly number[]; weights: readonly number[] },
  classes: number,
  dimension: number,
  o: ClassifierOptions,
): ClassifierFit {
  const out: ClassifierFit = { models: [], iterations: null, evaluations: null, converged: null };
  const fitLogistic = (start?: LinearModel): LinearModel => {
    const fit = trainLogistic(
      xs,
      ys,
      classes,
      dimension,
      {
        ...DEFAULT_LOGISTIC,
        l2: o.l2,
        maxIterations: o.maxIterations,
        tolerance: o.tolerance,
        memory: 6,
        onIteration: (i) => o.onProgress?.("fit", i, o.maxIterations),
      },
      Float64Array.from(windows.weights),
      start && scaledStart(start, o.warmStartScale),
    );
    uniformPrior(fit.model, windows);
    out.iterations = fit.report.iterations;
    out.evaluations = fit.report.evaluations;
    out.converged = fit.report.converged;
    return fit.model;
  };
  const fitNaiveBayes = () => {
    const nb = trainNaiveBayes(xs, ys, classes, dimension);
    // Windows are balanced per class by construction (augmented ones aside): uniform prior.
    nb.bias.fill(0);
    return nb;
  };
  out.models = o.classifier === "logistic-nb"
    ? ((nb) => [fitLogistic(nb), nb])(fitNaiveBayes())
    : o.classifier === "logistic"
    ? [fitLogistic()]
    : o.classifier === "naive-bayes"
    ? [fitNaiveBayes()]
    : [trainCentroid(xs, ys, classes, dimension)];
  return out;
}

/**
 * Prior correction: the augmented windows give their class more total weight than the others;
 * shifts its bias back so the model's implied class prior stays uniform.
 */
function uniformPrior(
  model: LinearModel,
  windows: { labels: readonly number[]; weights: readonly number[] },
): void {
  const mass = new Float64Array(model.classes);
  windows.labels.forEach((y, i) => mass[y]! += windows.weights[i]!);
  const mean = mass.reduce((a, v) => a + v, 0) / model.classes;
  mass.forEach((m, c) => model.bias[c]! -= m > 0 ? Math.log(m / mean) : 0);
}

/**
 * The product of calibrated linear models: `W = Σ Wₘ / Tₘ`, `b = Σ bₘ / Tₘ` (log-probabilities
 * added; the softmax normalises), temperature 1 until re-calibrated.
 */
export function productOfExperts(models: LinearModel[], kind: ClassifierKind): LinearModel {
  const weights = new Float32Array(models[0]!.weights.length);
  const bias = new Float64Array(models[0]!.classes);
  for (const m of models) {
    for (let i = 0; i < weights.length; i++) weights[i]! += m.weights[i]! / m.temperature;
    for (let c = 0; c < bias.length; c++) bias[c]! += m.bias[c]! / m.temperature;
  }
  return { kind, classes: bias.length, weights, bias, temperature: 1 };
}

/** A copy of `m` with weights and bias multiplied by `scale` (a warm start for L-BFGS). */
function scaledStart(m: LinearModel, scale: number): LinearModel {
  // Centre each feature's row: softmax ignores a per-row constant, and the L2 penalty prefers 0.
  const k = m.classes;
  const weights = new Float32Array(m.weights.length);
  for (let i = 0; i < weights.length; i += k) {
    let mean = 0;
    for (let c = 0; c < k; c++) mean += m.weights[i + c]! / k;
    for (let c = 0; c < k; c++) weights[i + c] = (m.weights[i + c]! - mean) * scale;
  }
  return { ...m, weights, bias: m.bias.map((b) => b * scale) };
}
