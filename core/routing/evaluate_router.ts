/**
 * Evaluating a router on labelled text at several window lengths.
 *
 * @module
 */
import { type ClassificationReport, classificationReport } from "./classification_metrics.ts";
import { isPythonText, pythonTextMask } from "./python_text.ts";
import { type Router, UNKNOWN } from "./router.ts";
import { sampleWindows } from "./windows.ts";

/** Options of {@linkcode evaluateRouter}. */
export interface EvaluateOptions {
  /** Window lengths in characters; 0 means whole documents. */
  lengths: number[];
  /** Windows per class and length (whole-document evaluation uses every document). */
  windowsPerClass: number;
  seed: number;
  /** Predictions below this probability count as "unknown". */
  minConfidence: number;
  /**
   * Classes of Python source whose windows that lie wholly inside string literals or comments
   * (natural-language text, see python_text.ts) are left out. Default: none.
   */
  skipTextIn?: readonly string[];
}

/** The report at one window length. */
export interface LengthReport extends ClassificationReport {
  length: number;
}

/**
 * Evaluates `router` on texts of known class.
 *
 * @param router The router.
 * @param data Documents per true class.
 * @param options Lengths, window counts, seed and confidence threshold.
 * @returns One report per length.
 * @throws {RangeError} Naming every class of `data` the router does not know.
 */
export function evaluateRouter(
  router: Router,
  data: ReadonlyMap<string, readonly string[]>,
  options: EvaluateOptions,
): LengthReport[] {
  const unknown = [...data.keys()].filter((c) => !router.classes.includes(c));
  if (unknown.length > 0) {
    throw new RangeError(
      `Labels ${unknown.map((c) => `"${c}"`).join(", ")} are not classes of the router (classes: ${
        router.classes.join(", ")
      })`,
    );
  }
  return options.lengths.map((length) => {
    const truth: number[] = [];
    const predicted: number[] = [];
    for (const [cls, texts] of data) {
      const c = router.classes.indexOf(cls);
      const skip = options.skipTextIn?.includes(cls) ?? false;
      const masks = skip ? texts.map(pythonTextMask) : [];
      const windows = length === 0
        ? texts.filter((t, i) =>
          t.trim() !== "" && !(skip && isPythonText(t, masks[i]!, 0, t.length))
        )
        : sampleWindows(texts, {
          count: options.windowsPerClass,
          length,
          seed: options.seed + c * 31 + length,
          ...(skip
            ? { reject: (d, start, end) => isPythonText(texts[d]!, masks[d]!, start, end) }
            : {}),
        });
      for (const w of windows) {
        truth.push(c);
        if (options.minConfidence > 0) {
          const r = router.route(w, options.minConfidence);
          predicted.push(
            r.label === UNKNOWN ? router.classes.length : router.classes.indexOf(r.label),
          );
        } else predicted.push(router.predictIndex(w));
      }
    }
    return { length, ...classificationReport(router.classes, truth, predicted) };
  });
}

/**
 * Formats a report as a plain-text table: per-class P/R/F1/support, averages, accuracy and the
 * confusion matrix (rows true, columns predicted).
 *
 * @param report One length's report.
 * @returns Multi-line text.
 */
export function formatReport(report: LengthReport): string {
  const f = (v: number) => v.toFixed(4);
  const pad = (s: string, n: number) => s.padStart(n);
  const names = Object.keys(report.perClass);
  const w = Math.max(8, ...report.labels.map((l) => l.length + 1));
  const lines = [
    `window ${
      report.length === 0 ? "whole documents" : `${report.length} chars`
    }: ${report.total} windows, accuracy ${f(report.accuracy)}, macro-F1 ${f(report.macro.f1)}`,
    `${pad("class", w)} precision    recall        f1   support`,
  ];
  for (const name of names) {
    const m = report.perClass[name]!;
    lines.push(
      `${pad(name, w)} ${pad(f(m.precision), 9)} ${pad(f(m.recall), 9)} ${pad(f(m.f1), 9)} ${
        pad(String(m.support), 9)
      }`,
    );
  }
  for (const [name, m] of [["macro", report.macro], ["weighted", report.weighted]] as const) {
    lines.push(
      `${pad(name, w)} ${pad(f(m.precision), 9)} ${pad(f(m.recall), 9)} ${pad(f(m.f1), 9)}`,
    );
  }
  lines.push(`confusion (rows true, columns predicted):`);
  lines.push(`${pad("", w)}${report.labels.map((l) => pad(l, w)).join("")}`);
  report.confusion.forEach((row, t) => {
    lines.push(`${pad(names[t]!, w)}${row.map((v) => pad(String(v), w)).join("")}`);
  });
  return lines.join("\n");
}
