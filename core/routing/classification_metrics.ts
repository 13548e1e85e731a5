/**
 * Classification metrics: per-class precision, recall and F1, macro and weighted averages,
 * accuracy and the confusion matrix.
 *
 * @module
 */

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true examples of the class. */
  support: number;
}

/** Everything {@linkcode classificationReport} computes. */
export interface ClassificationReport {
  /** Class names: the true classes, then "unknown" when some prediction was unknown. */
  labels: string[];
  perClass: Record<string, ClassMetrics>;
  macro: Omit<ClassMetrics, "support">;
  weighted: Omit<ClassMetrics, "support">;
  accuracy: number;
  /** `confusion[t][p]`: examples of true class `labels[t]` predicted as `labels[p]`. */
  confusion: number[][];
  total: number;
}

/**
 * Computes the report. A prediction that is not one of `classes` (e.g. "unknown") counts as wrong
 * for recall and gets its own confusion column but no precision row.
 *
 * @param classes The true classes, in report order.
 * @param truth True class index per example.
 * @param predicted Predicted class index per example; `classes.length` means "unknown".
 * @returns The report.
 *
 * @example
 * ```ts
 * import { classificationReport } from "./classification_metrics.ts";
 * const r = classificationReport(["a", "b"], [0, 0, 1, 1], [0, 1, 1, 1]);
 * console.assert(r.accuracy === 0.75 && r.perClass.b!.precision === 2 / 3);
 * ```
 */
export function classificationReport(
  classes: readonly string[],
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
): ClassificationReport {
  const k = classes.length;
  const confusion = Array.from({ length: k + 1 }, () => new Array<number>(k + 1).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[truth[i]!]![predicted[i]!]!++;
  const hasUnknown = confusion.some((row) => row[k]! > 0);
  const perClass: Record<string, ClassMetrics> = {};
  let correct = 0;
  let present = 0;
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  classes.forEach((name, c) => {
    const tp = confusion[c]![c]!;
    correct += tp;
    const support = confusion[c]!.reduce((a, v) => a + v, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[name] = { precision, recall, f1, support };
    // Like scikit-learn, macro averages run over the classes that occur in truth or predictions.
    if (support > 0 || predictedAs > 0) present++;
    for (const [key, v] of [["precision", precision], ["recall", recall], ["f1", f1]] as const) {
      macro[key] += v;
      weighted[key] += (v * support) / Math.max(truth.length, 1);
    }
  });
  for (const key of ["precision", "recall", "f1"] as const) macro[key] /= Math.max(present, 1);
  const labels = hasUnknown ? [...classes, "unknown"] : [...classes];
  return {
    labels,
    perClass,
    macro,
    weighted,
    accuracy: truth.length > 0 ? correct / truth.length : 0,
    confusion: confusion.slice(0, k).map((row) => row.slice(0, labels.length)),
    total: truth.length,
  };
}
