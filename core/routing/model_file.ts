/**
 * The router model file: one JSON document (`*.json`), written by `moe router train`.
 *
 * ```jsonc
 * {
 *   "format": "moe-router", "version": 1,
 *   "classes": ["en", "fr", "de", "py"],         // class names, index order of every array below
 *   "classifier": "logistic-nb",                  // logistic-nb | logistic | naive-bayes | centroid
 *   "temperature": 0.83,                          // softmax temperature (calibration)
 *   "features": {
 *     "hashing": { "bits": 20, "charMin": 1, "charMax": 4, "words": true },
 *     "signalScale": 0.5,                         // value of a firing signal
 *     "signals": ["indented_line", …]             // signal names in column order (must match)
 *   },
 *   "training": { … },                            // how it was trained (informative only)
 *   "buckets": "<base64 Int32 LE>",               // hash bucket of each n-gram column (most frequent first)
 *   "idf": "<base64 Float32 LE>",                 // idf of each n-gram column
 *   "weights": "<base64 Float32 LE>",             // (n-gram columns + signals) × classes, row-major
 *   "bias": [ … ]                                 // one per class
 * }
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { HashingConfig } from "./features.ts";
import { CLASSIFIER_KINDS, type ClassifierKind, type LinearModel } from "./linear.ts";
import { SIGNAL_NAMES } from "./signals.ts";
import type { VectorizerState } from "./vectorizer.ts";

/** The `format` field of a router model file. */
export const ROUTER_FORMAT = "moe-router";
/** The model file version this code reads and writes. */
export const ROUTER_VERSION = 1;

/** The parts of a router that the file holds. */
export interface RouterParts {
  classes: string[];
  vectorizer: VectorizerState;
  model: LinearModel;
  training: Record<string, unknown>;
}

const b64 = (a: Int32Array | Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

function fromB64<T>(s: unknown, make: (b: ArrayBuffer) => T, what: string): T {
  if (typeof s !== "string") throw new SyntaxError(`field "${what}" is not a base64 string`);
  const bytes = Buffer.from(s, "base64");
  if (bytes.length % 4 !== 0) {
    throw new SyntaxError(`field "${what}" is not a whole number of 4-byte values`);
  }
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return make(copy.buffer);
}

/**
 * Serialises a router to the JSON text of its model file.
 *
 * @param parts Classes, vectorizer state, classifier and training notes.
 * @returns JSON text.
 */
export function routerToJson(parts: RouterParts): string {
  const { classes, vectorizer, model, training } = parts;
  return JSON.stringify({
    format: ROUTER_FORMAT,
    version: ROUTER_VERSION,
    classes,
    classifier: model.kind,
    temperature: model.temperature,
    features: {
      hashing: vectorizer.hashing,
      signalScale: vectorizer.signalScale,
      signals: SIGNAL_NAMES,
    },
    training,
    buckets: b64(vectorizer.buckets),
    idf: b64(vectorizer.idf),
    weights: b64(Float32Array.from(model.weights)),
    bias: [...model.bias],
  });
}

/**
 * Parses and checks a router model file.
 *
 * @param text The file's text.
 * @param path The file's path, for error messages.
 * @returns The router's parts.
 * @throws {Error} Naming the file and the problem: not JSON, another format or version, signals
 *   that differ from this build's, or arrays of inconsistent sizes.
 *
 * @example
 * ```ts
 * import { routerFromJson } from "./model_file.ts";
 * try {
 *   routerFromJson('{"format":"moe-router","version":99}', "r.json");
 * } catch (e) {
 *   console.assert((e as Error).message.includes("version 99"));
 * }
 * ```
 */
export function routerFromJson(text: string, path: string): RouterParts {
  const fail = (why: string): never => {
    throw new Error(`Cannot load router "${path}": ${why}`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || raw.format !== ROUTER_FORMAT) {
    return fail(`not a ${ROUTER_FORMAT} model file`);
  }
  if (raw.version !== ROUTER_VERSION) {
    return fail(
      `version ${JSON.stringify(raw.version)} is not supported (expected ${ROUTER_VERSION})`,
    );
  }
  try {
    const classes = raw.classes;
    if (
      !Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === "string")
    ) {
      throw new SyntaxError(`field "classes" must list at least 2 class names`);
    }
    const kind = raw.classifier as ClassifierKind;
    if (!CLASSIFIER_KINDS.includes(kind)) {
      throw new SyntaxError(`unknown classifier ${JSON.stringify(kind)}`);
    }
    const features = raw.features as {
      hashing: HashingConfig;
      signalScale: number;
      signals: string[];
    };
    if (JSON.stringify(features?.signals) !== JSON.stringify(SIGNAL_NAMES)) {
      throw new SyntaxError("its signals differ from this version of moe (retrain the router)");
    }
    const h = features.hashing;
    if (
      !(Number.isInteger(h?.bits) && h.bits >= 8 && h.bits <= 24 && h.charMin >= 1 &&
        h.charMax >= h.charMin)
    ) {
      throw new SyntaxError(`field "features.hashing" is invalid`);
    }
    const buckets = fromB64(raw.buckets, (b) => new Int32Array(b), "buckets");
    const idf = fromB64(raw.idf, (b) => new Float32Array(b), "idf");
    const weights = fromB64(raw.weights, (b) => new Float32Array(b), "weights");
    const k = classes.length;
    const dimension = buckets.length + SIGNAL_NAMES.length;
    if (idf.length !== buckets.length || weights.length !== dimension * k) {
      throw new SyntaxError(
        `array sizes disagree (${buckets.length} buckets, ${idf.length} idf, ${weights.length} weights for ${k} classes)`,
      );
    }
    const bias = raw.bias;
    if (!Array.isArray(bias) || bias.length !== k || !bias.every(Number.isFinite)) {
      throw new SyntaxError(`field "bias" must hold ${k} numbers`);
    }
    const temperature = raw.temperature;
    if (typeof temperature !== "number" || !(temperature > 0)) {
      throw new SyntaxError(`field "temperature" must be a positive number`);
    }
    return {
      classes: classes as string[],
      vectorizer: { hashing: h, buckets, idf, signalScale: Number(features.signalScale) },
      model: { kind, classes: k, weights, bias: Float64Array.from(bias as number[]), temperature },
      training: (raw.training ?? {}) as Record<string, unknown>,
    };
  } catch (error) {
    return fail((error as Error).message);
  }
}
