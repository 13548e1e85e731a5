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
import {
  Interrupted,
  nameOsErrors,
  type Progress,
  silentProgress,
  type StopRequest,
  writeFileAtomic,
} from "../cli/mod.ts";
import type { AdamWConfig } from "../optim/mod.ts";
import type { Backend } from "../runtime/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import { BatchSampler, evalBatches, phaseOf, type SamplerState, type Schedule } from "./batches.ts";
import { type CheckpointConfig, writeCheckpoint } from "./checkpoint.ts";
import { GPTRunner } from "./gpt_runner.ts";
import type { ModelRunner } from "./runner.ts";
import { learningRate, type LrSchedule } from "./lr_schedule.ts";
import { openTokenData, type TokenData } from "./token_data.ts";
import {
  checkResumeData,
  findResumePoint,
  removeLeftovers,
  resumedRunOptions,
  sameDataDir,
  shardDigests,
} from "./resume.ts";

/** Everything that defines a run (saved in every checkpoint; a resumed run reuses it). */
export interface TrainOptions {
  /** Token shard directory. */
  data: string;
  /** Preset the model came from, or `custom`. */
  modelName: string;
  model: GPTConfig;
  /** Rows per micro-batch. */
  batch: number;
  /** Micro-batches per optimizer step. */
  accumulate: number;
  /** Tokens per row (≤ the model's context). */
  seqLen: number;
  /** Learning-rate schedule (its `steps` is the run's length). */
  lr: LrSchedule;
  adamw: AdamWConfig;
  schedule: Schedule;
  /** Classes trained and evaluated, in order: sequential phases, balanced and round-robin cycles. */
  order: string[];
  /** Evaluate every this many steps (0: only at phase ends and at the end). */
  evalEvery: number;
  /** Validation rows per class per evaluation. */
  evalRows: number;
  /** Checkpoint every this many steps (0: only at the end). */
  checkpointEvery: number;
  /** Checkpoints kept on disk. */
  keep: number;
  seed: number;
}

/** Where a run stands, saved with each checkpoint. */
interface Position {
  step: number;
  tokens: number;
  sampler: SamplerState;
  /** The runner's host-side state ({@linkcode ModelRunner.position}). */
  runner?: unknown;
}

/** Per-class validation loss and perplexity. */
export type ValReport = Record<string, { loss: number; ppl: number }>;

/** What a finished (or interrupted) run reports. */
export interface TrainSummary {
  steps: number;
  tokens: number;
  /** The step this process started from (0, or the checkpoint's when resumed). */
  startStep: number;
  /** Seconds of training in this process. */
  seconds: number;
  tokensPerSecond: number;
  finalLoss: number;
  val: ValReport;
  checkpoint: string;
}

/** Run context that is not part of the saved options. */
export interface TrainContext {
  backend: Backend;
  /** Run directory (metrics.jsonl, latest, step-N/). */
  out: string;
  /** The tokenizer file the shards were made with (copied into checkpoints). */
  tokenizerPath: string;
  /**
   * Continue from the latest complete checkpoint in `out`, after checking that the shards are
   * the ones it was trained on (see `resume.ts`).
   */
  resume?: boolean;
  progress?: Progress;
  /**
   * Set `requested` (e.g. in a SIGINT or SIGTERM handler) to checkpoint and stop after the
   * current step; the {@linkcode Interrupted} thrown carries `signal`'s exit code.
   */
  stop?: StopRequest;
  /** Told one line when the run repairs something: a broken `latest`, half-written checkpoints. */
  notice?: (line: string) => void;
  /** Stop (without a checkpoint) after this step; tests use it to simulate a crash. */
  haltAfter?: number;
  /** Loads the model's graphs (default: a GPT-2 trained with cross-entropy, `GPTRunner`). */
  runner?: (options: TrainOptions, data: TokenData) => Promise<ModelRunner>;
  /** `config.json` format of the checkpoints (default `moe-gpt`). */
  format?: string;
  /** More `config.json` fields (e.g. `distill`: the teacher and the loss settings). */
  extra?: Record<string, unknown>;
}

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
    return await loop(o, ctx, data, runner, pos, resumeDir);
  } finally {
    await runner.dispose();
    data.close();
  }
}

async function loop(
  o: TrainOptions,
  ctx: TrainContext,
  data: TokenData,
  runner: ModelRunner,
  resumed: Position | null,
  resumeDir: string | null,
): Promise<TrainSummary> {
  const progress = ctx.progress ?? silentProgress;
  const rows = o.batch * o.accumulate;
  const sampler = new BatchSampler(data.train, { ...o, batch: rows, steps: o.lr.steps });
  const metricsPath = join(ctx.out, "metrics.jsonl");
  let pos: Position = resumed ?? { step: 0, tokens: 0, sampler: sampler.state() };
  if (resumeDir) {
    await runner.load(join(resumeDir, "state.safetensors"));
    sampler.restore(pos.sampler);
    if (pos.runner !== undefined) runner.restorePosition?.(pos.runner);
    await nameOsErrors("write", metricsPath, () => truncateMetrics(metricsPath, pos.step));
  } else {
    await nameOsErrors("write", metricsPath, () => Deno.writeTextFile(metricsPath, ""));
  }
  const log = (record: Record<string, unknown>) =>
    nameOsErrors(
      "append to",
      metricsPath,
      () => Deno.writeTextFile(metricsPath, JSON.stringify(record) + "\n", { append: true }),
    );
  const tokenizer = data.manifest.tokenizer;
  const digests = shardDigests(data.manifest);
  let lastCheckpoint = resumeDir ?? "";
  let checkpointed = resumed?.step ?? -1;
  const checkpoint = async () => {
    if (checkpointed === pos.step) return; // already on disk: never replace a complete checkpoint
    checkpointed = pos.step;
    const state = await runner.readState();
    const config: CheckpointConfig = {
      ...ctx.extra,
      format: ctx.format ?? "moe-gpt",
      version: 1,
      name: o.modelName,
      model: o.model,
      tokenizer: {
        fingerprint: tokenizer.fingerprint,
        vocabSize: tokenizer.vocabSize,
        eotId: tokenizer.eotId,
      },
      ...(Object.keys(digests).length > 0 ? { shards: digests } : {}),
      trainer: { step: pos.step, options: o, position: pos },
    };
    const meta = { step: String(pos.step) };
    lastCheckpoint = await writeCheckpoint(
      ctx.out,
      config,
      async (dir) => {
        await runner.writeModel(dir, state);
        await runner.save(join(dir, "state.safetensors"), meta);
      },
      ctx.tokenizerPath,
      o.keep,
    );
  };
  const evaluate = async (): Promise<ValReport> => {
    const report = await validate(data, o, (c, b) => runner.evalLoss(c, b.tokens, b.targets));
    const phase = o.schedule === "sequential"
      ? o.order[phaseOf(Math.max(1, pos.step), o.lr.steps, o.order.length)]
      : null;
    await log({ event: "eval", step: pos.step, ...(phase ? { phase } : {}), val: report });
    return report;
  };

  const tokensPerStep = rows * o.seqLen;
  const total = o.lr.steps * tokensPerStep;
  progress.start(total, "train");
  const started = performance.now();
  const startTokens = pos.tokens;
  // A resumed run reports where it stands even if it has no step left to train.
  let { val, finalLoss } = resumed ? await lastReported(metricsPath) : { val: {}, finalLoss: NaN };
  // Checkpoints what is done (nothing before the first step) and stops with the signal's code.
  const interrupt = async (): Promise<never> => {
    const signal = ctx.stop?.signal ?? "SIGINT";
    const what = signal === "SIGINT" ? "Interrupted" : `Stopped by ${signal}`;
    if (pos.step > 0) await checkpoint();
    progress.stop();
    throw new Interrupted(
      pos.step > 0
        ? `${what} at step ${pos.step}: checkpoint written to "${lastCheckpoint}" (continue with --resume)`
        : `${what} before the first step: nothing was trained (no checkpoint written)`,
      signal,
    );
  };
  while (pos.step < o.lr.steps) {
    // A signal that came while the run was being set up stops it before another step.
    if (ctx.stop?.requested) await interrupt();
    const step = pos.step + 1;
    const batch = await sampler.next(step);
    const lr = learningRate(o.lr, step);
    const { loss, gradNorm, parts } = await runner.step(batch, lr, step);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      await log({ event: "diverged", step, loss: String(loss), grad_norm: String(gradNorm) });
      progress.stop();
      const kept = lastCheckpoint
        ? `the last good checkpoint "${lastCheckpoint}" is kept`
        : "no checkpoint was written before it";
      throw new Error(
        `Training diverged at step ${step}: the loss is ${loss} (learning rate ${
          lr.toPrecision(3)
        }); ${kept}`,
      );
    }
    finalLoss = loss;
    const seconds = (performance.now() - started) / 1000;
    pos = { step, tokens: pos.tokens + tokensPerStep, sampler: sampler.state() };
    const runnerPosition = runner.position?.();
    if (runnerPosition !== undefined) pos.runner = runnerPosition;
    const rate = (pos.tokens - startTokens) / Math.max(seconds, 1e-9);
    // The class of a one-class batch (round-robin, sequential, one-class runs): which expert
    // and which α controller the step trained.
    const cls = batch.classes.every((c) => c === batch.classes[0]) ? batch.classes[0] : undefined;
    await log({
      event: "train",
      step,
      ...(cls !== undefined ? { class: cls } : {}),
      loss,
      lr,
      grad_norm: gradNorm,
      ...parts,
      tokens: pos.tokens,
      tokens_per_s: Math.round(rate),
    });
    progress.update(pos.tokens, `loss ${loss.toFixed(3)} step ${step}/${o.lr.steps}`);
    const phaseEnd = o.schedule === "sequential" && step < o.lr.steps &&
      phaseOf(step + 1, o.lr.steps, o.order.length) !== phaseOf(step, o.lr.steps, o.order.length);
    if ((o.evalEvery > 0 && step % o.evalEvery === 0 && step < o.lr.steps) || phaseEnd) {
      val = await evaluate();
    }
    if (ctx.haltAfter === step) return summary();
    if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && step < o.lr.steps) {
      await checkpoint();
    }
    if (ctx.stop?.requested) await interrupt();
  }
  if (resumed?.step !== o.lr.steps) val = await evaluate(); // a finished run is not redone
  await checkpoint();
  progress.stop();
  return summary();

  function summary(): TrainSummary {
    const seconds = (performance.now() - started) / 1000;
    return {
      steps: pos.step,
      tokens: pos.tokens,
      startStep: resumed?.step ?? 0,
      seconds,
      tokensPerSecond: (pos.tokens - startTokens) / Math.max(seconds, 1e-9),
      finalLoss,
      val,
      checkpoint: lastCheckpoint,
    };
  }
}

/**
 * Mean next-token loss and perplexity of each class of `o.order` on its validation windows (the
 * first `o.evalRows`, in order; the mean is over counted tokens, padding excluded).
 *
 * @param data The opened shards.
 * @param o Classes, rows per batch, tokens per row, validation rows.
 * @param loss The model's mean loss on one batch of a class.
 */
export async function validate(
  data: TokenData,
  o: Pick<TrainOptions, "order" | "batch" | "seqLen" | "evalRows">,
  loss: (cls: string, batch: { tokens: BigInt64Array; targets: BigInt64Array }) => Promise<number>,
): Promise<ValReport> {
  const report: ValReport = {};
  for (const c of o.order) {
    let sum = 0, count = 0;
    for (const b of await evalBatches(data.val.get(c)!, o.batch, o.seqLen, o.evalRows)) {
      sum += (await loss(c, b)) * b.count;
      count += b.count;
    }
    const mean = sum / Math.max(1, count);
    report[c] = { loss: mean, ppl: Math.exp(mean) };
  }
  return report;
}

/** The last train loss and validation report logged in `metrics.jsonl` (NaN and {} if none). */
async function lastReported(path: string): Promise<{ val: ValReport; finalLoss: number }> {
  let val: ValReport = {}, finalLoss = NaN;
  const text = await Deno.readTextFile(path).catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as { event?: string; loss?: number; val?: ValReport };
    if (record.event === "train" && typeof record.loss === "number") finalLoss = record.loss;
    if (record.event === "eval" && record.val) val = record.val;
  }
  return { val, finalLoss };
}

/** Drops metric records after `step` (a killed run may have logged steps past its checkpoint). */
async function truncateMetrics(path: string, step: number): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const kept = text.split("\n").filter((line) => {
    if (line.trim() === "") return false;
    try {
      return (JSON.parse(line) as { step?: number }).step! <= step;
    } catch {
      return false; // a line cut short by the kill
    }
  });
  // Atomically: a kill while rewriting must not lose the records before the checkpoint.
  await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
}
