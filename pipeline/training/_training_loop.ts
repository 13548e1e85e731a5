/**
 * The training loop of one run (see `trainer.ts`): one optimizer step per batch, evaluation
 * every N steps and at phase ends, metrics, checkpoints, the stop on a non-finite loss, and the
 * checkpoint on interruption.
 *
 * @module
 */
import { join } from "node:path";
import { Interrupted, type Progress, silentProgress } from "../../core/job/mod.ts";
import { BatchSampler, phaseOf, type SamplerState } from "./batches.ts";
import { writeCheckpoint } from "./checkpoint.ts";
import type { CheckpointConfig } from "./config_schema.ts";
import type { ModelRunner } from "./runner.ts";
import { learningRate } from "./lr_schedule.ts";
import type { TokenData } from "./token_data.ts";
import { shardDigests } from "./resume.ts";
import { validate, type ValReport } from "./validation.ts";
import { appendMetric, lastReported, startMetrics } from "./_metrics_log.ts";
import type { TrainContext, TrainOptions, TrainSummary } from "./training_run.ts";

/** Where a run stands, saved with each checkpoint. */
export interface Position {
  step: number;
  tokens: number;
  sampler: SamplerState;
  /** The runner's host-side state ({@linkcode ModelRunner.position}). */
  runner?: unknown;
}

/** One run of the training loop: where it stands, its last checkpoint, and what it reports. */
export class TrainingLoop {
  readonly #sampler: BatchSampler;
  readonly #metricsPath: string;
  readonly #progress: Progress;
  readonly #tokensPerStep: number;
  readonly #digests: Record<string, string>;
  #pos: Position;
  #lastCheckpoint: string;
  /** The step of the checkpoint on disk (−1: none yet). */
  #checkpointed: number;
  #val: ValReport = {};
  #finalLoss = NaN;
  #started = 0;
  readonly #startTokens: number;

  constructor(
    readonly o: TrainOptions,
    readonly ctx: TrainContext,
    readonly data: TokenData,
    readonly runner: ModelRunner,
    readonly resumed: Position | null,
    readonly resumeDir: string | null,
  ) {
    this.#progress = ctx.progress ?? silentProgress;
    const rows = o.batch * o.accumulate;
    this.#sampler = new BatchSampler(data.train, { ...o, batch: rows, steps: o.lr.steps });
    this.#metricsPath = join(ctx.out, "metrics.jsonl");
    this.#pos = resumed ?? { step: 0, tokens: 0, sampler: this.#sampler.state() };
    this.#digests = shardDigests(data.manifest);
    this.#lastCheckpoint = resumeDir ?? "";
    this.#checkpointed = resumed?.step ?? -1;
    this.#tokensPerStep = rows * o.seqLen;
    this.#startTokens = this.#pos.tokens;
  }

  /** Trains from where the run stands to its last step, evaluating and checkpointing on the way. */
  async run(): Promise<TrainSummary> {
    const { o, ctx } = this;
    await this.#restore();
    this.#progress.start(o.lr.steps * this.#tokensPerStep, "train");
    this.#started = performance.now();
    // A resumed run reports where it stands even if it has no step left to train.
    if (this.resumed) {
      ({ val: this.#val, finalLoss: this.#finalLoss } = await lastReported(this.#metricsPath));
    }
    while (this.#pos.step < o.lr.steps) {
      // A signal that came while the run was being set up stops it before another step.
      if (ctx.stop?.requested) await this.#interrupt();
      const step = this.#pos.step + 1;
      await this.#trainStep(step);
      if (this.#evaluatesAfter(step)) this.#val = await this.#evaluate();
      if (ctx.haltAfter === step) return this.#summary();
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && step < o.lr.steps) {
        await this.#checkpoint();
      }
      if (ctx.stop?.requested) await this.#interrupt();
    }
    if (this.resumed?.step !== o.lr.steps) this.#val = await this.#evaluate(); // a finished run is not redone
    await this.#checkpoint();
    this.#progress.stop();
    return this.#summary();
  }

  /** A resumed run's model, sampler and runner position, and its metrics up to its checkpoint. */
  async #restore(): Promise<void> {
    if (this.resumeDir) {
      await this.runner.load(join(this.resumeDir, "state.safetensors"));
      this.#sampler.restore(this.#pos.sampler);
      if (this.#pos.runner !== undefined) this.runner.restorePosition?.(this.#pos.runner);
    }
    await startMetrics(this.#metricsPath, this.resumeDir ? this.#pos.step : null);
  }

  /** One optimizer step, its metrics record and progress; throws if the loss is not finite. */
  async #trainStep(step: number): Promise<void> {
    const { o, runner } = this;
    const batch = await this.#sampler.next(step);
    const lr = learningRate(o.lr, step);
    const { loss, gradNorm, parts } = await runner.step(batch, lr, step);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      await this.#log({ event: "diverged", step, loss: String(loss), grad_norm: String(gradNorm) });
      this.#progress.stop();
      const kept = this.#lastCheckpoint
        ? `the last good checkpoint "${this.#lastCheckpoint}" is kept`
        : "no checkpoint was written before it";
      throw new Error(
        `Training diverged at step ${step}: the loss is ${loss} (learning rate ${
          lr.toPrecision(3)
        }); ${kept}`,
      );
    }
    this.#finalLoss = loss;
    const seconds = (performance.now() - this.#started) / 1000;
    const pos: Position = {
      step,
      tokens: this.#pos.tokens + this.#tokensPerStep,
      sampler: this.#sampler.state(),
    };
    const runnerPosition = runner.position?.();
    if (runnerPosition !== undefined) pos.runner = runnerPosition;
    this.#pos = pos;
    const rate = (pos.tokens - this.#startTokens) / Math.max(seconds, 1e-9);
    // The class of a one-class batch (round-robin, sequential, one-class runs): which expert
    // and which α controller the step trained.
    const cls = batch.classes.every((c) => c === batch.classes[0]) ? batch.classes[0] : undefined;
    await this.#log({
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
    this.#progress.update(pos.tokens, `loss ${loss.toFixed(3)} step ${step}/${o.lr.steps}`);
  }

  /** Whether step `step` is followed by an evaluation: every `evalEvery` steps and at phase ends. */
  #evaluatesAfter(step: number): boolean {
    const o = this.o;
    const phaseEnd = o.schedule === "sequential" && step < o.lr.steps &&
      phaseOf(step + 1, o.lr.steps, o.order.length) !== phaseOf(step, o.lr.steps, o.order.length);
    return (o.evalEvery > 0 && step % o.evalEvery === 0 && step < o.lr.steps) || phaseEnd;
  }

  /** Validates every class and logs the report (with the phase of a sequential run). */
  async #evaluate(): Promise<ValReport> {
    const { o, runner } = this;
    const report = await validate(this.data, o, (c, b) => runner.evalLoss(c, b.tokens, b.targets));
    const phase = o.schedule === "sequential"
      ? o.order[phaseOf(Math.max(1, this.#pos.step), o.lr.steps, o.order.length)]
      : null;
    await this.#log({
      event: "eval",
      step: this.#pos.step,
      ...(phase ? { phase } : {}),
      val: report,
    });
    return report;
  }

  /** Writes a checkpoint of the current step, unless it is already on disk. */
  async #checkpoint(): Promise<void> {
    const { o, ctx, runner } = this;
    const pos = this.#pos;
    if (this.#checkpointed === pos.step) return; // already on disk: never replace a complete checkpoint
    this.#checkpointed = pos.step;
    const state = await runner.readState();
    const tokenizer = this.data.manifest.tokenizer;
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
      ...(Object.keys(this.#digests).length > 0 ? { shards: this.#digests } : {}),
      trainer: { step: pos.step, options: o, position: pos },
    };
    const meta = { step: String(pos.step) };
    this.#lastCheckpoint = await writeCheckpoint(
      ctx.out,
      config,
      async (dir) => {
        await runner.writeModel(dir, state);
        await runner.save(join(dir, "state.safetensors"), meta);
      },
      ctx.tokenizerPath,
      o.keep,
    );
  }

  /** Checkpoints what is done (nothing before the first step) and stops with the signal's code. */
  async #interrupt(): Promise<never> {
    const pos = this.#pos;
    const signal = this.ctx.stop?.signal ?? "SIGINT";
    const what = signal === "SIGINT" ? "Interrupted" : `Stopped by ${signal}`;
    if (pos.step > 0) await this.#checkpoint();
    this.#progress.stop();
    throw new Interrupted(
      (s) =>
        pos.step > 0
          ? `${what} at step ${pos.step}: checkpoint written to "${this.#lastCheckpoint}" (continue with ${
            s.option("resume")
          })`
          : `${what} before the first step: nothing was trained (no checkpoint written)`,
      signal,
    );
  }

  #log(record: Record<string, unknown>): Promise<void> {
    return appendMetric(this.#metricsPath, record);
  }

  #summary(): TrainSummary {
    const seconds = (performance.now() - this.#started) / 1000;
    const pos = this.#pos;
    return {
      steps: pos.step,
      tokens: pos.tokens,
      startStep: this.resumed?.step ?? 0,
      seconds,
      tokensPerSecond: (pos.tokens - this.#startTokens) / Math.max(seconds, 1e-9),
      finalLoss: this.#finalLoss,
      val: this.#val,
      checkpoint: this.#lastCheckpoint,
    };
  }
}
