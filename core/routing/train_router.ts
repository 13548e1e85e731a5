/**
 * Training a router from per-class texts: cut windows, count and weigh features, fit the
 * classifier, calibrate its temperature on validation windows.
 *
 * @module
 */
import { fitClassifiers, productOfExperts } from "./_router_classifier.ts";
import { proseFromCode } from "./augment.ts";
import { fitTemperature } from "./calibrate.ts";
import { CountScratch, DEFAULT_HASHING } from "./features.ts";
import type { ClassifierKind } from "./linear.ts";
import { Router } from "./router.ts";
import type { SparseVector } from "./sparse.ts";
import {
  type TechnicalProseStyle,
  technicalProseWindows,
  technicalTokens,
} from "./technical_prose.ts";
import { Vectorizer } from "./vectorizer.ts";
import { sampleWindows } from "./windows.ts";

/** Re-flowed docstring/comment prose of class `code` added to class `prose` (see augment.ts). */
export interface ProseFromCodeOptions {
  code: string;
  prose: string;
  /** Sample weight of the added windows (real windows weigh 1). */
  weight: number;
  /** Added windows, as a fraction of `windowsPerClass`. */
  fraction: number;
  /**
   * Shortest added window. Short windows of re-flowed technical prose make the prose class a
   * catch-all for any short unfamiliar text, so they start longer than the real windows.
   */
  minLength: number;
}

/**
 * Prose windows of each class in `prose` with code tokens of class `code` inserted (see
 * technical_prose.ts).
 */
export interface TechnicalProseOptions extends TechnicalProseStyle {
  code: string;
  prose: string[];
  /** Sample weight of the added windows (real windows weigh 1). */
  weight: number;
  /** Added windows per prose class, as a fraction of `windowsPerClass`. */
  fraction: number;
  /**
   * Shortest added window. At 32 characters a quoted identifier and a few words are as likely a
   * docstring inside code, so the added windows start a little longer than the real ones.
   */
  minLength: number;
}

/** Options of {@linkcode trainRouter}; every field has a default. */
export interface RouterTrainOptions {
  classifier: ClassifierKind;
  /** Training windows per class. */
  windowsPerClass: number;
  /** Window lengths are log-uniform in [minLength, maxLength] characters. */
  minLength: number;
  maxLength: number;
  seed: number;
  /** log2 of the number of hash buckets. */
  bits: number;
  /** Longest character n-gram. */
  charMax: number;
  /** Value of a firing structural/function-word signal. */
  signalScale: number;
  /** L2 penalty of logistic regression. */
  l2: number;
  maxIterations: number;
  /** Stop L-BFGS when one iteration lowers the objective by less than this fraction. */
  tolerance: number;
  /** Logistic regression starts from the Naive Bayes weights times this (0: from zero). */
  warmStartScale: number;
  /** Fraction of training windows that start at a line or word start (see windows.ts). */
  snap: number;
  /** N-grams seen in fewer training windows get no column (their weights would be noise). */
  minDf: number;
  /** Augmentation; `null` to switch it off. Ignored when either class is absent. */
  proseFromCode: ProseFromCodeOptions | null;
  /**
   * Augmentation with prose that quotes code (see technical_prose.ts); `null` to switch it off.
   * Ignored when the code class is absent.
   */
  technicalProse: TechnicalProseOptions | null;
  /** Validation windows per class for temperature calibration. */
  calibrationWindows: number;
  /** Progress callback: phase name, done, total. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** The defaults (chosen on fixtures/ood and held-out corpus groups, see the README). */
export const DEFAULT_ROUTER_TRAINING: RouterTrainOptions = {
  classifier: "logistic-nb",
  windowsPerClass: 12000,
  minLength: 32,
  maxLength: 1024,
  seed: 1,
  bits: DEFAULT_HASHING.bits,
  charMax: DEFAULT_HASHING.charMax,
  signalScale: 1,
  l2: 2e-5,
  maxIterations: 300,
  tolerance: 1e-2,
  minDf: 2,
  snap: 0.5,
  warmStartScale: 0,
  proseFromCode: { code: "py", prose: "en", weight: 0.5, fraction: 0.5, minLength: 96 },
  technicalProse: {
    code: "py",
    prose: ["en", "fr", "de"],
    weight: 1,
    fraction: 0.25,
    minRate: 0.02,
    maxRate: 0.2,
    dropFunctionWords: 0.5,
    minLength: 48,
  },
  calibrationWindows: 500,
};

/** What happened during training. */
export interface RouterTrainReport {
  windows: number;
  /** Augmented windows of both kinds (prose from code, technical prose). */
  augmentedWindows: number;
  /** Of which technical-prose windows. */
  technicalProseWindows: number;
  dimension: number;
  iterations: number | null;
  /** Loss-and-gradient evaluations of logistic regression (iterations + line-search retries). */
  evaluations: number | null;
  converged: boolean | null;
  temperature: number;
  seconds: { features: number; fit: number; calibrate: number };
}

/** Training windows with their class indices and sample weights. */
export interface TrainingWindows {
  texts: string[];
  labels: number[];
  weights: number[];
}

/**
 * Cuts the training windows of {@linkcode trainRouter}: `windowsPerClass` per class, then the
 * prose-from-code windows (see augment.ts) when both of its classes are present, then the
 * technical-prose windows (see technical_prose.ts) when the code class is present.
 *
 * @param train Texts per class.
 * @param o Options.
 * @returns The windows, how many of them are augmented (they come last) and how many of those
 *   are technical prose.
 */
export function trainingWindows(
  train: ReadonlyMap<string, readonly string[]>,
  o: RouterTrainOptions,
): TrainingWindows & { augmented: number; technicalProse: number } {
  const classes = [...train.keys()];
  const lengths = { min: o.minLength, max: o.maxLength };
  const out: TrainingWindows = { texts: [], labels: [], weights: [] };
  classes.forEach((cls, c) => {
    const seed = o.seed * 1009 + c;
    const windowOptions = { count: o.windowsPerClass, length: lengths, seed, snap: o.snap };
    for (const w of sampleWindows(train.get(cls)!, windowOptions)) {
      out.texts.push(w);
      out.labels.push(c);
      out.weights.push(1);
    }
  });
  let augmented = 0;
  const aug = o.proseFromCode;
  if (aug && train.has(aug.code) && train.has(aug.prose) && aug.fraction > 0) {
    const prose = train.get(aug.code)!.flatMap((t) => proseFromCode(t));
    const count = Math.round(o.windowsPerClass * aug.fraction);
    const augLengths = { min: Math.max(aug.minLength, o.minLength), max: o.maxLength };
    for (const w of sampleWindows(prose, { count, length: augLengths, seed: o.seed * 7919 })) {
      out.texts.push(w);
      out.labels.push(classes.indexOf(aug.prose));
      out.weights.push(aug.weight);
      augmented++;
    }
  }
  let technical = 0;
  const tech = o.technicalProse;
  if (tech && train.has(tech.code) && tech.fraction > 0) {
    const tokens = technicalTokens(train.get(tech.code)!);
    const count = Math.round(o.windowsPerClass * tech.fraction);
    const length = { min: Math.max(tech.minLength, o.minLength), max: o.maxLength };
    classes.forEach((cls, c) => {
      if (!tech.prose.includes(cls)) return;
      const seed = o.seed * 6271 + c;
      const windows = sampleWindows(train.get(cls)!, { count, length, seed });
      for (const w of technicalProseWindows(windows, tokens, tech, seed)) {
        out.texts.push(w);
        out.labels.push(c);
        out.weights.push(tech.weight);
        technical++;
      }
    });
  }
  return { ...out, augmented: augmented + technical, technicalProse: technical };
}

/**
 * Trains a router: cuts windows ({@linkcode trainingWindows}) and fits on them
 * ({@linkcode trainOnWindows}).
 *
 * @param train Texts per class (documents of the train split); class order = map order.
 * @param val Texts per class for calibration, or `null` to calibrate on fresh train windows.
 * @param options Overrides of {@linkcode DEFAULT_ROUTER_TRAINING}.
 * @returns The router and a report.
 * @throws {RangeError} If fewer than two classes have text.
 */
export function trainRouter(
  train: ReadonlyMap<string, readonly string[]>,
  val: ReadonlyMap<string, readonly string[]> | null,
  options: Partial<RouterTrainOptions> = {},
): { router: Router; report: RouterTrainReport } {
  const o = { ...DEFAULT_ROUTER_TRAINING, ...options };
  const classes = [...train.keys()];
  const empty = classes.filter((c) => train.get(c)!.every((t) => t.trim() === ""));
  if (classes.length < 2 || empty.length > 0) {
    throw new RangeError(
      `Cannot train a router: need at least 2 classes with text (got ${classes.length}${
        empty.length ? `; empty: ${empty.join(", ")}` : ""
      })`,
    );
  }
  const windows = trainingWindows(train, o);
  const lengths = { min: o.minLength, max: o.maxLength };
  const calibration: TrainingWindows = { texts: [], labels: [], weights: [] };
  classes.forEach((cls, c) => {
    const source = val?.get(cls) ?? train.get(cls)!;
    const seed = o.seed * 104729 + c;
    for (const w of sampleWindows(source, { count: o.calibrationWindows, length: lengths, seed })) {
      calibration.texts.push(w);
      calibration.labels.push(c);
    }
  });
  const notes = {
    windowsPerClass: o.windowsPerClass,
    lengths,
    seed: o.seed,
    proseFromCode: o.proseFromCode,
    technicalProse: o.technicalProse,
    augmentedWindows: windows.augmented,
    calibration: val ? "val split" : "train split (no val given)",
  };
  const result = trainOnWindows(classes, windows, calibration, o, notes);
  result.report.augmentedWindows = windows.augmented;
  result.report.technicalProseWindows = windows.technicalProse;
  return result;
}

/**
 * Fits the vectorizer and classifier on given windows and calibrates on others.
 *
 * @param classes Class names (label i is `classes[i]`).
 * @param windows Training windows.
 * @param calibration Held-out windows for the temperature (weights unused).
 * @param o Options (window fields unused).
 * @param notes Extra training notes stored in the model file.
 * @returns The router and a report.
 */
export function trainOnWindows(
  classes: string[],
  windows: TrainingWindows,
  calibration: TrainingWindows,
  o: RouterTrainOptions,
  notes: Record<string, unknown> = {},
): { router: Router; report: RouterTrainReport } {
  const hashing = { ...DEFAULT_HASHING, bits: o.bits, charMax: o.charMax };
  let t0 = performance.now();
  const { texts } = windows;
  const scratch = new CountScratch();
  const counted = texts.map((t, i) => {
    if (i % 1000 === 0) o.onProgress?.("features", i, texts.length);
    return Vectorizer.count(t, hashing, scratch);
  });
  const vectorizer = Vectorizer.fit(counted, hashing, o.signalScale, o.minDf);
  const xs = counted.map((c) => vectorizer.weigh(c));
  counted.length = 0;
  const ys = Int32Array.from(windows.labels);
  const featureSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const { models, iterations, evaluations, converged } = fitClassifiers(
    xs,
    ys,
    windows,
    classes.length,
    vectorizer.dimension,
    o,
  );
  const fitSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  o.onProgress?.("calibrate", 0, 1);
  const calX: SparseVector[] = calibration.texts.map((w) => vectorizer.transform(w));
  const calY = Int32Array.from(calibration.labels);
  for (const m of models) m.temperature = fitTemperature(m, calX, calY);
  const model = models.length === 1 ? models[0]! : productOfExperts(models, o.classifier);
  model.temperature = fitTemperature(model, calX, calY);
  const training = { classifier: o.classifier, l2: o.l2, iterations, converged, ...notes };
  const router = new Router({ classes, vectorizer: vectorizer.state, model, training });
  return {
    router,
    report: {
      windows: texts.length,
      augmentedWindows: 0,
      technicalProseWindows: 0,
      dimension: vectorizer.dimension,
      iterations,
      evaluations,
      converged,
      temperature: model.temperature,
      seconds: {
        features: featureSeconds,
        fit: fitSeconds,
        calibrate: (performance.now() - t0) / 1000,
      },
    },
  };
}
