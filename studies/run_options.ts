/**
 * The training options of every experiment's runs: the paper's optimisation (AdamW with weight
 * decay 0.05 and clipping 1, 5 % linear warm-up, cosine decay to a tenth of the peak) and an
 * evaluation plus a checkpoint (one kept, so a resumed sub-run loses little) every `every` steps.
 *
 * @module
 */
import { ADAMW_DEFAULTS } from "../core/optim/mod.ts";
import type { Schedule, TrainOptions } from "../pipeline/training/mod.ts";
import type { GPTConfig } from "../models/gpt.ts";

/** What differs between an experiment's runs. */
export interface ExperimentRun {
  data: string;
  modelName: string;
  model: GPTConfig;
  batch: number;
  /** Micro-batches per step (default 1). */
  accumulate?: number;
  seqLen: number;
  /** Peak learning rate. */
  lr: number;
  steps: number;
  schedule: Schedule;
  /** The classes it trains on, in order. */
  order: string[];
  /** Evaluate and checkpoint every this many steps. */
  every: number;
  /** Validation rows per class per evaluation. */
  evalRows: number;
  seed: number;
}

/**
 * Options for `train()` / `distill()` / `trainMoE()` with the paper's schedule.
 *
 * @example
 * ```ts
 * import { experimentTrainOptions } from "./run_options.ts";
 * import { GPT_CONFIGS } from "../models/gpt.ts";
 * const o = experimentTrainOptions({
 *   data: "tokens", modelName: "tiny", model: GPT_CONFIGS.tiny, batch: 8, seqLen: 64, lr: 1e-3,
 *   steps: 200, schedule: "balanced", order: ["en", "fr"], every: 50, evalRows: 16, seed: 1,
 * });
 * console.assert(o.lr.warmup === 10 && o.lr.minLr === 1e-4 && o.checkpointEvery === 50);
 * ```
 */
export function experimentTrainOptions(r: ExperimentRun): TrainOptions {
  return {
    data: r.data,
    modelName: r.modelName,
    model: r.model,
    batch: r.batch,
    accumulate: r.accumulate ?? 1,
    seqLen: r.seqLen,
    lr: {
      lr: r.lr,
      minLr: r.lr / 10,
      warmup: Math.round(r.steps * 0.05),
      steps: r.steps,
      decay: "cosine",
    },
    adamw: ADAMW_DEFAULTS,
    schedule: r.schedule,
    order: r.order,
    evalEvery: r.every,
    evalRows: r.evalRows,
    checkpointEvery: r.every,
    keep: 1,
    seed: r.seed,
  };
}
