/**
 * The teacher training loop: batches from the token shards, the learning-rate schedule, one
 * optimizer step per batch on the backend, evaluation every N steps (and at every phase end of a
 * sequential run) with per-class validation loss and perplexity, metrics appended as JSONL,
 * checkpoints every N steps and at the end, exact resume, a stop on a non-finite loss, and a
 * checkpoint on interruption.
 *
 * @module
 */
import { basename, join } from "node:path";
import { nameOsErrors, writeFileAtomic } from "../../core/files/mod.ts";
import { GPTRunner } from "./gpt_runner.ts";
import { openTokenData } from "./token_data.ts";
import {
  checkResumeData,
  findResumePoint,
  removeLeftovers,
  resumedRunOptions,
  sameDataDir,
} from "./resume.ts";
import { type Position, TrainingLoop } from "./_training_loop.ts";
import type { TrainContext, TrainOptions, TrainSummary } from "./training_run.ts";

/**
 * Trains (or continues training) a GPT-2 on token shards.
 *
 * The caller holds the run's lock (`run_lock.ts`): the trainer removes leftovers of interrupted
 * writers from `ctx.out` at the start.
 *
 * @param options The run's definition. On resume it must equal the checkpoint's, except for what
 *   `resumedRunOptions` lets a resumed run change (its length, the shards' location, how often
 *   it evaluates and checkpoints, how many checkpoints it keeps).
 * @param ctx Backend, output directory, tokenizer, resume flag, progress, stop flag.
 * @returns The summary of the run.
 * @throws {RangeError} If the shards do not fit the model (vocab size, length), or the options
 *   differ from a resumed checkpoint's in what a resumed run must keep.
 * @throws {Error} If a resumed run's shards are not the ones it was trained on (tokenizer
 *   fingerprint, vocabulary, a shard's sha256), naming both values; if a file cannot be written
 *   (e.g. no space left on device), naming it.
 * @throws {Error} If the loss becomes NaN or infinite: the message names the step and the last
 *   good checkpoint, which is kept.
 * @throws {Interrupted} After checkpointing when `ctx.stop.requested` was set.
 */
export async function train(options: TrainOptions, ctx: TrainContext): Promise<TrainSummary> {
  let o = options;
  let pos: Position | null = null;
  let resumeDir: string | null = null;
  const notice = ctx.notice ?? (() => {});
  if (ctx.resume) {
    const point = await findResumePoint(ctx.out, [ctx.format ?? "moe-gpt"]);
    const saved = point.config.trainer as unknown as { options: TrainOptions; position: Position };
    o = resumedRunOptions(ctx.out, saved.options, options, saved.position.step);
    const sameDir = sameDataDir(o.data, saved.options.data);
    await checkResumeData(ctx.out, point.config, o.data, sameDir);
    pos = saved.position;
    resumeDir = point.dir;
    if (point.note !== null) {
      notice(point.note);
      await writeFileAtomic(join(ctx.out, "latest"), basename(point.dir) + "\n");
    }
  }
  await nameOsErrors("create the folder", ctx.out, () => Deno.mkdir(ctx.out, { recursive: true }));
  const leftovers = await removeLeftovers(ctx.out);
  if (leftovers.length > 0) {
    notice(
      `Removed what an interrupted run left half-written in "${ctx.out}": ${leftovers.join(", ")}`,
    );
  }
  const data = await openTokenData(o.data, o.model.vocabSize, o.seqLen);
  const runner = ctx.runner
    ? await ctx.runner(o, data).catch((error) => {
      data.close();
      throw error;
    })
    : await GPTRunner.create(ctx.backend, o.model, {
      batch: o.batch,
      seqLen: o.seqLen,
      accumulate: o.accumulate,
      seed: o.seed,
      adamw: o.adamw,
    });
  try {
    return await new TrainingLoop(o, ctx, data, runner, pos, resumeDir).run();
  } finally {
    await runner.dispose();
    data.close();
  }
}
