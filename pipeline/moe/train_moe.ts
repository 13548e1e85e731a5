/**
 * Training a JEET or MoE-CE model: the teacher's training loop (`pipeline/training/trainer.ts`:
 * schedule, evaluation, metrics, checkpoints, exact resume) driving a {@linkcode MoERunner} on
 * the `round-robin` schedule, so each step's batch is one class, the classes in turn, and every
 * expert sees the same number of batches. Checkpoints have format `moe-mixture` and carry the
 * MoE's classes and variant (see `checkpoint.ts`).
 *
 * @module
 */
import {
  findResumePoint,
  train,
  type TrainContext,
  type TrainOptions,
  type TrainSummary,
} from "../training/mod.ts";
import { checkMoEConfig, type MoEConfig } from "../../models/moe.ts";
import { checkSameTokenizer, loadTeacher } from "../distill/mod.ts";
import { openTokens } from "../../core/tokenizer/mod.ts";
import {
  MOE_CHECKPOINT_FORMAT,
  type MoECheckpointConfig,
  type MoEDistill,
} from "./moe_checkpoint.ts";
import { MoERunner } from "./moe_runner.ts";

/**
 * Trains (or with `ctx.resume` continues) a MoE.
 *
 * @param moe The MoE (ignored on resume: the checkpoint's wins); `moe.model` must equal
 *   `options.model`.
 * @param options The run; its `order` must list the MoE's classes, its schedule be
 *   `round-robin` and `accumulate` 1 (set by {@linkcode moeTrainOptions}).
 * @param ctx Backend, output directory, tokenizer, resume, progress, stop flag.
 * @param distill Distil from this teacher with these loss settings (null: CE alone).
 * @returns The run's summary; `val` is the loss of the MoE routed to each class's own expert.
 * @throws {RangeError} If the options do not fit a MoE run.
 */
export async function trainMoE(
  moe: MoEConfig,
  options: TrainOptions,
  ctx: Omit<TrainContext, "runner" | "format" | "extra">,
  distill: MoEDistill | null = null,
): Promise<TrainSummary> {
  let cfg = moe;
  if (ctx.resume) {
    // The checkpoint the trainer resumes from (a broken `latest` falls back the same way).
    const found = await findResumePoint(ctx.out, [MOE_CHECKPOINT_FORMAT]);
    cfg = (found.config as MoECheckpointConfig).moe;
  } else {
    checkMoEConfig(cfg);
    if (
      options.schedule !== "round-robin" || options.accumulate !== 1 ||
      options.order.join() !== cfg.classes.join()
    ) {
      throw new RangeError(
        "Cannot train a MoE: the run must be round-robin over the MoE's classes without accumulation",
      );
    }
  }
  const teacher = distill ? await loadTeacher(distill.teacher) : null;
  if (teacher) {
    const data = await openTokens(options.data);
    checkSameTokenizer(
      { ...teacher.config.tokenizer, source: teacher.dir },
      { ...data.tokenizer, source: options.data },
    );
  }
  return await train(options, {
    ...ctx,
    runner: (o) =>
      MoERunner.create(ctx.backend, cfg, {
        batch: o.batch,
        seqLen: o.seqLen,
        seed: o.seed,
        adamw: o.adamw,
        ...(teacher && distill
          ? { distill: { teacher, settings: distill, steps: o.lr.steps } }
          : {}),
      }),
    format: MOE_CHECKPOINT_FORMAT,
    extra: { moe: cfg, ...(distill ? { distill } : {}) },
  });
}

/**
 * The trainer options of a MoE run: `round-robin` over `moe.classes`, no accumulation.
 *
 * @example
 * ```ts
 * import { ADAMW_DEFAULTS } from "../../core/optim/mod.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * import { moeTrainOptions } from "./train_moe.ts";
 * const moe = { model: GPT_CONFIGS.tiny, classes: ["en", "fr"], variant: "jeet" as const };
 * const o = moeTrainOptions(moe, {
 *   data: "tokens", modelName: "tiny", batch: 8, seqLen: 64, adamw: ADAMW_DEFAULTS, seed: 1,
 *   lr: { lr: 1e-3, minLr: 1e-4, warmup: 10, steps: 100, decay: "cosine" },
 *   evalEvery: 0, evalRows: 16, checkpointEvery: 0, keep: 1,
 * });
 * console.assert(o.schedule === "round-robin" && o.order.join() === "en,fr");
 * ```
 */
export function moeTrainOptions(
  moe: MoEConfig,
  rest: Omit<TrainOptions, "model" | "schedule" | "order" | "accumulate">,
): TrainOptions {
  return {
    ...rest,
    model: moe.model,
    schedule: "round-robin",
    order: [...moe.classes],
    accumulate: 1,
  };
}
