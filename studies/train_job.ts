/**
 * A sub-run that trains a GPT with `pipeline/training` in this process (no subprocess: the backend is
 * opened once for all sub-runs) — on cross-entropy, or distilled from a teacher — resuming from
 * the sub-run's last checkpoint when an earlier attempt failed or was interrupted.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Progress } from "../core/job/mod.ts";
import { distill, type DistillSource } from "../pipeline/distill/mod.ts";
import {
  train,
  type TrainContext,
  type TrainOptions,
  type TrainSummary,
} from "../pipeline/training/mod.ts";
import type { JobContext, SubRun } from "./experiment.ts";

/** What {@linkcode trainJob} needs besides the training options. */
export interface TrainJobSpec {
  name: string;
  title: string;
  options: TrainOptions;
  /** The tokenizer file of `options.data` (copied into checkpoints). */
  tokenizerPath: string;
  /** Sub-runs that must finish first (e.g. the teacher). */
  after?: string[];
  /**
   * Distil from a teacher instead of training on cross-entropy alone. A function because the
   * teacher may be another sub-run, whose directory is known only when the job runs.
   */
  distill?: (ctx: JobContext) => DistillSource;
  /**
   * Train with this instead of `train()` / `distill()` (e.g. a JEET or MoE-CE mixture with
   * `trainMoE`); it gets the options with the sub-run's seed and the loop's context.
   */
  trainer?: (
    options: TrainOptions,
    trainCtx: TrainContext,
    ctx: JobContext,
  ) => Promise<TrainSummary>;
}

/**
 * A sub-run that trains `spec.options` (with the sub-run's seed) into the sub-run directory.
 *
 * @param spec Name, title, training options and tokenizer.
 * @returns The sub-run.
 *
 * @example
 * ```ts
 * import { trainJob } from "./train_job.ts";
 * import type { TrainOptions } from "../pipeline/training/mod.ts";
 * const job = trainJob({ name: "balanced", title: "balanced batches", options: {} as TrainOptions, tokenizerPath: "tok.json" });
 * console.assert(job.name === "balanced");
 * ```
 */
export function trainJob(spec: TrainJobSpec): SubRun {
  return {
    name: spec.name,
    title: spec.title,
    ...(spec.after ? { after: spec.after } : {}),
    async run(dir, ctx) {
      // An attempt that died before its first checkpoint left no `latest`: start it afresh.
      const resume = ctx.retry &&
        await Deno.stat(join(dir, "latest")).then(() => true, () => false);
      const key = `${basename(dirname(dir))}/${basename(dir)}`;
      const haltAfter = ctx.env.haltAfter?.[key];
      const options = { ...spec.options, seed: ctx.seed };
      const trainCtx = {
        backend: ctx.env.backend,
        out: dir,
        tokenizerPath: spec.tokenizerPath,
        resume,
        ...(ctx.env.progress ? { progress: labelled(ctx.env.progress, key) } : {}),
        ...(ctx.env.stop ? { stop: ctx.env.stop } : {}),
        ...(ctx.env.notice ? { notice: ctx.env.notice } : {}),
        ...(haltAfter !== undefined ? { haltAfter } : {}),
      };
      const summary = spec.trainer
        ? await spec.trainer(options, trainCtx, ctx)
        : spec.distill
        ? await distill(options, spec.distill(ctx), trainCtx)
        : await train(options, trainCtx);
      if (summary.steps < options.lr.steps) {
        throw new Error(`stopped at step ${summary.steps} of ${options.lr.steps}`);
      }
    },
  };
}

/** A progress sink whose phases are named after the sub-run. */
function labelled(p: Progress, name: string): Progress {
  return {
    start: (total, label) => p.start(total, `${name} ${label}`),
    update: (done, info) => p.update(done, info),
    stop: () => p.stop(),
  };
}
