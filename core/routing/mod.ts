/**
 * The router: per-sequence classification of text into the MoE's expert classes (languages,
 * code) with calibrated probabilities. Hashed character n-grams and word unigrams with sublinear
 * TF-IDF, plus structural and function-word signals that keep it robust on text unlike its
 * training corpus; multinomial logistic regression (L-BFGS), by default multiplied with a Naive
 * Bayes model (`logistic-nb`), with Naive Bayes and nearest-centroid baselines. Plain TypeScript
 * over sparse vectors.
 *
 * @example
 * ```ts
 * import { trainRouter } from "./mod.ts";
 * const data = new Map([
 *   ["en", ["the cat sat on the mat while the dog slept by the fire"]],
 *   ["py", ["import os\n\ndef main(argv):\n    return os.path.join(argv[0], 'x')\n"]],
 * ]);
 * const { router } = trainRouter(data, null, { windowsPerClass: 50, minLength: 8, maxLength: 32, bits: 14 });
 * console.assert(router.route("def main(argv):").best === "py");
 * ```
 *
 * @module
 */
export * from "./sparse.ts";
export * from "./features.ts";
export * from "./text_signals.ts";
export * from "./vectorizer.ts";
export * from "./linear.ts";
export * from "./logistic.ts";
export * from "./baselines.ts";
export * from "./calibrate.ts";
export * from "./augment.ts";
export * from "./technical_prose.ts";
export * from "./windows.ts";
export * from "./python_text.ts";
export * from "./classification_metrics.ts";
export * from "./model_file.ts";
export * from "./router.ts";
export * from "./train_router.ts";
export * from "./evaluate_router.ts";
export * from "./labelled.ts";
export * from "./expert_posterior.ts";
