/**
 * Training a GPT-2 teacher on token shards: data streaming with mixed, balanced or sequential
 * schedules, the learning-rate schedule, per-class evaluation, metrics, atomic checkpoints,
 * exact and checked resume, and the lock of a run folder.
 *
 * Part of the pipeline layer, like `distill/`, `moe/`, `generate/` and `hf/`: it runs the graphs
 * of `models/` on the engine of `core/`, and knows nothing of the studies or the command line.
 *
 * @example
 * ```ts
 * import { learningRate } from "./mod.ts";
 * const s = { lr: 1e-3, minLr: 0, warmup: 0, steps: 100, decay: "linear" as const };
 * console.assert(learningRate(s, 50) === 5e-4);
 * ```
 *
 * @module
 */
export * from "./lr_schedule.ts";
export * from "./token_data.ts";
export * from "./batches.ts";
export * from "./runner.ts";
export * from "./gpt_runner.ts";
export * from "./checkpoint.ts";
export * from "./hf_import.ts";
export * from "./trainer.ts";
export * from "./training_run.ts";
export * from "./validation.ts";
export * from "./resume.ts";
export * from "./run_lock.ts";
export * from "./options.ts";
export * from "./config_schema.ts";
