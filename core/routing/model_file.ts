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
import { z } from "zod";
import { checkJson, fields, finite, integer, name, parseJsonText } from "../schema/mod.ts";
import { CLASSIFIER_KINDS, type LinearModel } from "./linear.ts";
import { SIGNAL_NAMES } from "./text_signals.ts";
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

/** Little-endian 4-byte values in base64 (`buckets`, `idf`, `weights`). */
const base64Values = z.base64({ error: "must be a base64 string" }).refine(
  (s) => Buffer.from(s, "base64").length % 4 === 0,
  { error: "must hold a whole number of 4-byte values" },
);

/** What a router file holds besides its format and version (checked first, for their message). */
const routerFileSchema = z.object({
  classes: z.array(name).min(2, { error: "must list at least 2 class names" }).refine(
    (classes) => new Set(classes).size === classes.length,
    { error: "must not name a class twice" },
  ),
  classifier: z.enum(CLASSIFIER_KINDS),
  temperature: finite({ min: 0, open: "min" }),
  features: z.object({
    hashing: fields({
      bits: integer(8, 24),
      charMin: integer(1),
      charMax: integer(1),
      words: z.boolean(),
    }).refine((h) => h.charMax >= h.charMin, {
      path: ["charMax"],
      error: "must be ≥ charMin",
    }),
    signalScale: finite({ min: 0 }),
    signals: z.array(z.string()),
  }),
  training: z.record(z.string(), z.unknown()).optional(),
  buckets: base64Values,
  idf: base64Values,
  weights: base64Values,
  bias: z.array(finite()),
});

function fromB64<T>(s: string, make: (b: ArrayBuffer) => T): T {
  const bytes = Buffer.from(s, "base64");
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return make(copy.buffer);
}

/** The first value of `values` that is not finite, as `field[i] is NaN`, or null. */
function nonFinite(values: ArrayLike<number>, field: string): string | null {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return `${field}[${i}] is ${values[i]}`;
  }
  return null;
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
 * @throws {SyntaxError} One line naming the file and the field: not JSON, another format or
 *   version, a field missing or of the wrong type, a weight, idf or bias that is not finite, a
 *   bucket outside the hash space, signals that differ from this build's, or arrays of
 *   inconsistent sizes.
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
    throw new SyntaxError(`Cannot load router "${path}": ${why}`);
  };
  const raw = parseJsonText(text, "router", path) as Record<string, unknown> | null;
  if (typeof raw !== "object" || raw === null || raw.format !== ROUTER_FORMAT) {
    return fail(`not a ${ROUTER_FORMAT} model file`);
  }
  if (raw.version !== ROUTER_VERSION) {
    return fail(
      `version ${JSON.stringify(raw.version)} is not supported (expected ${ROUTER_VERSION})`,
    );
  }
  const file = checkJson(routerFileSchema, raw, "router", path);
  const { classes, features } = file;
  if (JSON.stringify(features.signals) !== JSON.stringify(SIGNAL_NAMES)) {
    fail("its signals differ from this version of moe (retrain the router)");
  }
  const buckets = fromB64(file.buckets, (b) => new Int32Array(b));
  const idf = fromB64(file.idf, (b) => new Float32Array(b));
  const weights = fromB64(file.weights, (b) => new Float32Array(b));
  const k = classes.length;
  const dimension = buckets.length + SIGNAL_NAMES.length;
  if (idf.length !== buckets.length || weights.length !== dimension * k) {
    fail(
      `array sizes disagree (${buckets.length} buckets, ${idf.length} idf, ${weights.length} weights for ${k} classes)`,
    );
  }
  if (file.bias.length !== k) {
    fail(`bias must hold ${k} numbers, got a list of ${file.bias.length}`);
  }
  const bucketCount = 2 ** features.hashing.bits;
  const outside = buckets.findIndex((b) => b < 0 || b >= bucketCount);
  if (outside >= 0) {
    fail(`buckets[${outside}] is ${buckets[outside]}, outside the ${bucketCount} hash buckets`);
  }
  const bad = nonFinite(idf, "idf") ?? nonFinite(weights, "weights");
  if (bad !== null) fail(bad);
  return {
    classes,
    vectorizer: { hashing: features.hashing, buckets, idf, signalScale: features.signalScale },
    model: {
      kind: file.classifier,
      classes: k,
      weights,
      bias: Float64Array.from(file.bias),
      temperature: file.temperature,
    },
    training: file.training ?? {},
  };
}
