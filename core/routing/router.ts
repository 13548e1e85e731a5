/**
 * A trained router: text in, class and calibrated probabilities out.
 *
 * @module
 */
import { type LinearModel, scores } from "./linear.ts";
import { routerFromJson, type RouterParts, routerToJson } from "./model_file.ts";
import { softmaxInPlace } from "./sparse.ts";
import { Vectorizer } from "./vectorizer.ts";
import { osErrorReason } from "../files/os_error.ts";

/** Label returned for empty or low-confidence input (the MoE sends it to its common expert). */
export const UNKNOWN = "unknown";

/** The routing decision for one text. */
export interface RouteResult {
  /** The most probable class, or "unknown". */
  label: string;
  /** Why the label is "unknown", when it is. */
  reason?: "empty" | "low-confidence";
  /** The most probable class regardless of the threshold. */
  best: string;
  /** Probability of `best`. */
  confidence: number;
  /** Calibrated probability per class. */
  probabilities: Record<string, number>;
}

/**
 * A router: vectorizer + linear classifier + class names.
 *
 * @example
 * ```ts
 * import { Router, trainRouter } from "./mod.ts";
 * const data = new Map([["en", ["the cat sat on the mat and the dog ran away"]], ["py", ["def f(x):\n    return x + 1\n"]]]);
 * const { router } = trainRouter(data, null, { windowsPerClass: 50, minLength: 8, maxLength: 32, bits: 14 });
 * console.assert(router.route("return x + 1").best === "py");
 * console.assert(router.route("").label === "unknown");
 * ```
 */
export class Router {
  readonly classes: string[];
  readonly vectorizer: Vectorizer;
  readonly model: LinearModel;
  readonly training: Record<string, unknown>;
  readonly #scratch: Float64Array;

  constructor(parts: RouterParts) {
    this.classes = parts.classes;
    this.vectorizer = new Vectorizer(parts.vectorizer);
    this.model = parts.model;
    this.training = parts.training;
    this.#scratch = new Float64Array(parts.classes.length);
  }

  /**
   * Loads a model file.
   *
   * @param path Path of a file written by {@linkcode Router.save}.
   * @returns The router.
   * @throws {Error} If the file cannot be read or is not a valid router of this version.
   */
  static async load(path: string): Promise<Router> {
    const text = await Deno.readTextFile(path).catch((error: Error) => {
      throw new Error(`Cannot load router "${path}": ${osErrorReason(error) ?? error.message}`);
    });
    return new Router(routerFromJson(text, path));
  }

  /** The model file's JSON text. */
  toJson(): string {
    return routerToJson({
      classes: this.classes,
      vectorizer: this.vectorizer.state,
      model: this.model,
      training: this.training,
    });
  }

  /** Index of the most probable class (fast path for evaluation and benchmarks). */
  predictIndex(text: string): number {
    const s = scores(this.model, this.vectorizer.transform(text), this.#scratch);
    let best = 0;
    for (let c = 1; c < s.length; c++) if (s[c]! > s[best]!) best = c;
    return best;
  }

  /** Calibrated probabilities, in class order. */
  probabilities(text: string): Float64Array {
    const s = scores(
      this.model,
      this.vectorizer.transform(text),
      new Float64Array(this.classes.length),
    );
    for (let c = 0; c < s.length; c++) s[c]! /= this.model.temperature;
    return softmaxInPlace(s);
  }

  /**
   * Routes one text.
   *
   * @param text Any text; empty or whitespace-only text is "unknown" (reason "empty") and its
   *   probabilities are the model's prior (the bias alone).
   * @param minConfidence Below this probability the label is "unknown" (reason "low-confidence").
   * @returns Label, best class, confidence and all probabilities.
   */
  route(text: string, minConfidence = 0): RouteResult {
    const p = text.trim() === "" ? this.#prior() : this.probabilities(text);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    const probabilities = Object.fromEntries(this.classes.map((name, c) => [name, p[c]!]));
    const result: RouteResult = {
      label: this.classes[best]!,
      best: this.classes[best]!,
      confidence: p[best]!,
      probabilities,
    };
    if (text.trim() === "") return { ...result, label: UNKNOWN, reason: "empty" };
    if (p[best]! < minConfidence) return { ...result, label: UNKNOWN, reason: "low-confidence" };
    return result;
  }

  #prior(): Float64Array {
    return softmaxInPlace(this.model.bias.map((b) => b / this.model.temperature));
  }
}
