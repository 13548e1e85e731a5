/**
 * Parameters of the forgetting study: a scale preset, then explicit overrides, checked against
 * the token shards (classes, vocabulary, tokenizer).
 *
 * @module
 */
import { InvalidRequest } from "../../core/job/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Scale } from "../experiment.ts";
import { experimentData, experimentModel, type Overrides, withOverrides } from "../scale_preset.ts";

/** Everything that defines a forgetting study (saved in `experiment.json`). */
export interface ForgettingParams {
  scale: Scale;
  /** Token shard directory (absolute). */
  data: string;
  /** Its tokenizer (absolute). */
  tokenizerPath: string;
  /** Class order: the phases of the sequential regime. */
  order: string[];
  modelName: string;
  model: GPTConfig;
  /** Rows per micro-batch (a multiple of the class count keeps balanced batches exact). */
  batch: number;
  accumulate: number;
  seqLen: number;
  /** Optimizer steps of each regime (equal token budget): a multiple of classes × evalsPerPhase. */
  steps: number;
  /** Peak learning rate (5 % warm-up, cosine decay to a tenth, as in the paper). */
  lr: number;
  /** Evaluations per phase (the last at the phase's end). */
  evalsPerPhase: number;
  /** Validation rows per class per evaluation. */
  evalRows: number;
}

/** What a scale preset fixes (model preset and overrides, batch geometry, budget). */
export interface ForgettingPreset {
  config: string;
  layers?: number;
  dModel?: number;
  heads?: number;
  contextLength?: number;
  batch: number;
  accumulate: number;
  seqLen: number;
  steps: number;
  lr: number;
  evalsPerPhase: number;
  evalRows: number;
}

/**
 * The presets. `tiny`: the test-suite size, seconds on the fixtures. `small`: the `bench` model
 * (4 layers, d 256, ctx 128) for 400 steps of 16 × 128 tokens per regime, ≈ 0.8 M tokens each
 * (halved from 800 so that 3 seeds fit a few hours of 2 cores); at the ≈ 2 100 tokens/s one
 * thread reaches on the 2-core machine, ≈ 7 min per regime, ≈ 20 min per seed. `paper`: the paper's 6-layer, d 768 student at context 1024
 * (`GPT_CONFIGS` `paper-student-6l`), for a GPU machine.
 */
export const FORGETTING_PRESETS: Readonly<Record<Scale, ForgettingPreset>> = {
  tiny: {
    config: "tiny",
    batch: 8,
    accumulate: 1,
    seqLen: 64,
    steps: 160,
    lr: 3e-3,
    evalsPerPhase: 2,
    evalRows: 16,
  },
  small: {
    config: "bench",
    batch: 16,
    accumulate: 1,
    seqLen: 128,
    steps: 400,
    lr: 1e-3,
    evalsPerPhase: 4,
    evalRows: 64,
  },
  paper: {
    config: "paper-student-6l",
    batch: 16,
    accumulate: 4,
    seqLen: 1024,
    steps: 20000,
    lr: 6e-4,
    evalsPerPhase: 5,
    evalRows: 256,
  },
};

/** Flags that override a preset (undefined: keep the preset's). */
export type ForgettingOverrides =
  & Overrides<ForgettingPreset>
  & { order?: string[] | undefined; tokenizer?: string | undefined };

/**
 * Resolves the parameters of a forgetting study.
 *
 * @param scale The preset.
 * @param data The token shard directory.
 * @param overrides Explicit flags, which win over the preset.
 * @returns The parameters.
 * @throws {InvalidRequest} If the order does not name each class once, the steps are not a multiple
 *   of classes × evaluations per phase, or the sequence is longer than the context.
 */
export async function forgettingParams(
  scale: Scale,
  data: string,
  overrides: ForgettingOverrides = {},
): Promise<ForgettingParams> {
  const { order: _, tokenizer, ...flags } = overrides;
  const p = withOverrides(FORGETTING_PRESETS[scale], flags);
  const shards = await experimentData(data, tokenizer);
  const manifest = shards.manifest;
  const order = overrides.order ?? manifest.classes;
  if (
    new Set(order).size !== order.length || order.length !== manifest.classes.length ||
    order.some((c) => !manifest.classes.includes(c))
  ) {
    const classes = manifest.classes.join(", ");
    throw new InvalidRequest(
      (s) =>
        `Invalid ${s.option("order")} "${
          order.join(",")
        }": expected each of ${classes} exactly once`,
      { option: "order" },
    );
  }
  const { name, model } = await experimentModel(p, manifest.tokenizer.vocabSize, p.seqLen);
  const unit = order.length * p.evalsPerPhase;
  if (p.steps % unit !== 0) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${
          s.option("steps")
        } ${p.steps}: it must be a multiple of ${unit} (${order.length} classes × ${p.evalsPerPhase} evaluations per phase) so that every phase ends on an evaluation`,
      { option: "steps" },
    );
  }
  return {
    scale,
    data: shards.data,
    tokenizerPath: shards.tokenizerPath,
    order,
    modelName: name,
    model,
    batch: p.batch,
    accumulate: p.accumulate,
    seqLen: p.seqLen,
    steps: p.steps,
    lr: p.lr,
    evalsPerPhase: p.evalsPerPhase,
    evalRows: p.evalRows,
  };
}
