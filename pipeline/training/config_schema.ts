/**
 * Schemas of the model config a user hands `--config`, of the `model` every checkpoint and
 * bundle expert records, and of a checkpoint's `config.json`: what they may hold, checked on
 * every load so that `{"layers": "two"}` or a typo like `"layer": 2` fails with a line naming the
 * file and the field instead of training something else.
 *
 * @module
 */
import { z } from "zod";
import {
  checkJson,
  fields,
  finite,
  integer,
  name,
  parseJsonText,
  type SameType,
  someFields,
} from "../../core/schema/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";

/** `config.json` of a checkpoint. */
export interface CheckpointConfig {
  /** `moe-gpt` for a GPT (teacher or distilled student); other runners name their own. */
  format: string;
  version: 1;
  /** Preset name the model started from, or `custom`. */
  name: string;
  model: GPTConfig;
  tokenizer: { fingerprint: string; vocabSize: number; eotId: number };
  /** Everything the trainer needs to continue (options, step, data position). */
  trainer: Record<string, unknown> & { step: number };
  /**
   * sha256 of each token shard the run trains on, by path in the shard directory, as the shards'
   * manifest recorded them (absent when it recorded none): `--resume` checks the shards by them.
   */
  shards?: Record<string, string>;
  /** What else a runner records (e.g. `distill`: the teacher and the loss settings). */
  [extra: string]: unknown;
}

/** Every field of a {@linkcode GPTConfig}, with its range. */
const gptShape = {
  vocabSize: integer(2),
  contextLength: integer(1),
  layers: integer(1),
  heads: integer(1),
  dModel: integer(1),
  layerNormEps: finite({ min: 0, open: "min" }),
  decayEmbeddings: z.boolean({ error: "must be true or false" }),
  dropout: finite({ min: 0, max: 1, open: "max" }).exactOptional(),
  activation: z.enum(["gelu_new", "gelu"], { error: "must be gelu_new or gelu" }).exactOptional(),
  head: z.enum(["tied", "untied"], { error: "must be tied or untied" }).exactOptional(),
};

/** Attention splits the width into equal heads (checked once both fields are known). */
const headsDivideWidth = {
  path: ["dModel"],
  error: (issue: { input?: unknown }) => {
    const { dModel, heads } = issue.input as Pick<GPTConfig, "dModel" | "heads">;
    return `must be divisible by heads (${heads}), got ${dModel}`;
  },
};

/**
 * A complete GPT config, as a checkpoint's or a bundle expert's `config.json` records it.
 *
 * @example
 * ```ts
 * import { gptConfigSchema } from "./config_schema.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * console.assert(gptConfigSchema.safeParse(GPT_CONFIGS.tiny).success);
 * console.assert(!gptConfigSchema.safeParse({ ...GPT_CONFIGS.tiny, heads: 3 }).success);
 * ```
 */
export const gptConfigSchema = fields(gptShape).refine(
  (c) => c.dModel % c.heads === 0,
  headsDivideWidth,
);

/**
 * The fields a `--config` file may set (the rest come from GPT-2 small, the shards and flags):
 * any subset of a {@linkcode GPTConfig}'s, and nothing else.
 */
export const gptConfigFileSchema = someFields(gptShape).refine(
  (c) => c.dModel === undefined || c.heads === undefined || c.dModel % c.heads === 0,
  headsDivideWidth,
);

// Compile-time check that the schema and the GPTConfig interface describe the same fields.
const _sameFields: SameType<z.output<typeof gptConfigSchema>, GPTConfig> = true;

/**
 * Reads the model fields of a `--config` file: either the fields themselves or an object whose
 * `model` holds them (a checkpoint's `config.json` works as it is).
 *
 * @param text The file's text.
 * @param path The file, for messages.
 * @returns The fields it sets.
 * @throws {SyntaxError} `Cannot load model config "<path>": <field> <problem>` for text that is
 *   not JSON, a wrong type, a value out of range, or an unknown field.
 *
 * @example
 * ```ts
 * import { parseModelConfigFile } from "./config_schema.ts";
 * console.assert(parseModelConfigFile('{"model": {"layers": 3}}', "c.json").layers === 3);
 * try {
 *   parseModelConfigFile('{"layers": "two"}', "c.json");
 * } catch (error) {
 *   console.assert((error as Error).message ===
 *     'Cannot load model config "c.json": layers must be an integer ≥ 1, got "two"');
 * }
 * ```
 */
export function parseModelConfigFile(text: string, path: string): Partial<GPTConfig> {
  const json = parseJsonText(text, "model config", path);
  const wrapped = typeof json === "object" && json !== null && "model" in json;
  return wrapped
    ? checkJson(z.looseObject({ model: gptConfigFileSchema }), json, "model config", path).model
    : checkJson(gptConfigFileSchema, json, "model config", path);
}

/** A checkpoint's `config.json`: the fields every runner writes; runners add their own. */
const checkpointConfigSchema = z.looseObject({
  format: name,
  version: z.literal(1),
  name: z.string(),
  model: gptConfigSchema,
  tokenizer: z.looseObject({ fingerprint: z.string(), vocabSize: integer(2), eotId: integer(0) }),
  trainer: z.looseObject({ step: integer(0) }),
});

/**
 * Parses and checks a checkpoint's `config.json`.
 *
 * @param text The file's text.
 * @param path The file, for messages.
 * @param formats The formats the caller reads (`moe-gpt`, `moe-mixture`).
 * @returns The config.
 * @throws {SyntaxError} Naming the file: not JSON, another format, or a field that is missing,
 *   of the wrong type or out of range (`model.heads must be an integer ≥ 1, got 0`).
 *
 * @example
 * ```ts
 * import { parseCheckpointConfig } from "./config_schema.ts";
 * try {
 *   parseCheckpointConfig("", "run/step-000010/config.json", ["moe-gpt"]);
 * } catch (error) {
 *   console.assert((error as Error).message ===
 *     'Cannot load checkpoint config "run/step-000010/config.json": the file is empty');
 * }
 * ```
 */
export function parseCheckpointConfig(
  text: string,
  path: string,
  formats: readonly string[],
): CheckpointConfig {
  const json = parseJsonText(text, "checkpoint config", path);
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === "string" && !formats.includes(format)) {
    throw new SyntaxError(
      `Cannot read checkpoint "${path}": its format "${format}" is not ${formats.join(" or ")}`,
    );
  }
  return checkJson(checkpointConfigSchema, json, "checkpoint config", path);
}
