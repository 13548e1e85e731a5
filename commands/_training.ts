/**
 * The options every training command shares (`train`, `distill`, `train-moe`): the model, the
 * optimizer and its schedule, evaluation, checkpoints, backend, resume — one definition, so the
 * commands cannot drift apart — the run folder's lock, and the SIGINT/SIGTERM handling that
 * checkpoints before exiting. The distillation options are in `_distill_options.ts`.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable } from "../core/files/mod.ts";
import { onStopSignal, type Progress, type StopRequest } from "../core/job/mod.ts";
import { ADAMW_DEFAULTS } from "../core/optim/mod.ts";
import { openTokens, type TokensManifest } from "../core/tokenizer/mod.ts";
import {
  DECAYS,
  findTokenizer,
  lockRun,
  type LrSchedule,
  resolveModel,
  type RunLock,
  type Schedule,
  type TrainContext,
  type TrainOptions,
  type TrainSummary,
} from "../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../models/gpt.ts";
import type { DistillFlags } from "./_distill_options.ts";
import {
  BACKEND_HELP,
  type GlobalOptions,
  openCommandBackend,
  printJson,
  THREADS_HELP,
} from "./_run.ts";
import { integerIn, numberIn } from "./_option_values.ts";

/** The flags {@linkcode addRunOptions} declares. */
export interface RunFlags extends GlobalOptions {
  data?: string;
  out?: string;
  config: string;
  layers?: number;
  dModel?: number;
  heads?: number;
  ctx?: number;
  vocabSize?: number;
  batch: number;
  seqLen?: number;
  steps: number;
  lr: number;
  minLr?: number;
  warmup?: number;
  decay: LrSchedule["decay"];
  weightDecay: number;
  clip: number;
  evalEvery: number;
  evalRows: number;
  checkpointEvery: number;
  keep: number;
  seed: number;
  tokenizer?: string;
  backend?: string;
  threads?: string;
  resume?: boolean;
  force?: boolean;
}

/** Declares the shared options on `cmd`; `defaults` sets command-specific defaults. */
export function addRunOptions(
  cmd: Command,
  defaults: { config: string; steps: number; lr: number },
): Command {
  const withData = cmd
    .option("--data <DIR>", "token shard directory (required unless --resume)")
    // Checked by the action, not by commander: commander would demand it of subcommands too.
    .option(
      "-o, --out <DIR>",
      "run directory, required: metrics.jsonl, latest, step-N/ checkpoints",
    );
  const withModel = addModelOptions(withData, defaults.config);
  const withOptimizer = addOptimizerOptions(withModel, defaults);
  return addEvalAndCheckpointOptions(withOptimizer)
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .option(
      "--resume",
      "continue the run in --out from its latest complete checkpoint (same loss curve); of the other flags only --steps, --data, --eval-every, --checkpoint-every and --keep may differ from the run's",
    )
    .option("--force", "start afresh even if --out already holds a run");
}

/** The model: a preset or file, and the shape flags that override it. */
function addModelOptions(cmd: Command, config: string): Command {
  return cmd
    .option(
      "--config <NAME|FILE>",
      `model: ${Object.keys(GPT_CONFIGS).join(", ")} or a JSON file`,
      config,
    )
    .option("--layers <N>", "transformer blocks (overrides --config)", integerIn(1, 256))
    .option("--d-model <N>", "residual width (overrides --config)", integerIn(1, 65536))
    .option("--heads <N>", "attention heads (overrides --config)", integerIn(1, 1024))
    .option("--ctx <N>", "context length (overrides --config)", integerIn(2, 65536))
    .option(
      "--vocab-size <N>",
      "vocab size (default: the shards'; must match them)",
      integerIn(2, 2 ** 24),
    );
}

/** The batch, the optimizer and its learning-rate schedule. */
function addOptimizerOptions(cmd: Command, defaults: { steps: number; lr: number }): Command {
  return cmd
    .option("--batch <N>", "rows per micro-batch", integerIn(1, 65536), 16)
    .option("--seq-len <N>", "tokens per row (default: the context length)", integerIn(1, 65536))
    .option("--steps <N>", "optimizer steps", integerIn(1, 1e9), defaults.steps)
    .option("--lr <X>", "peak learning rate", numberIn(0, 10), defaults.lr)
    .option("--min-lr <X>", "final learning rate (default: lr / 10)", numberIn(0, 10))
    .option("--warmup <N>", "linear warm-up steps (default: 5 % of --steps)", integerIn(0, 1e9))
    .addOption(
      new Option("--decay <KIND>", "decay after warm-up").choices(DECAYS).default("cosine"),
    )
    .option(
      "--weight-decay <X>",
      "AdamW decoupled weight decay",
      numberIn(0, 10),
      ADAMW_DEFAULTS.weightDecay,
    )
    .option(
      "--clip <X>",
      "global gradient-norm clip (0: off)",
      numberIn(0, 1e9),
      ADAMW_DEFAULTS.clipNorm,
    );
}

/** Evaluation, checkpoints, the seed and the shards' tokenizer. */
function addEvalAndCheckpointOptions(cmd: Command): Command {
  return cmd
    .option(
      "--eval-every <N>",
      "evaluate every N steps (0: phase ends and the end only)",
      integerIn(0, 1e9),
      100,
    )
    .option("--eval-rows <N>", "validation rows per class per evaluation", integerIn(1, 1e9), 64)
    .option(
      "--checkpoint-every <N>",
      "checkpoint every N steps (0: at the end only)",
      integerIn(0, 1e9),
      200,
    )
    .option("--keep <N>", "checkpoints kept on disk", integerIn(1, 1000), 1)
    .option("--seed <N>", "seed of initialization and data order", integerIn(0, 2 ** 32 - 1), 1)
    .option("--tokenizer <FILE>", "tokenizer.json of the shards (default: the manifest's)");
}

/**
 * Declares `--dropout` (train, distill: the commands whose model is one GPT-2).
 *
 * @param cmd The command.
 * @returns `cmd`.
 */
export function addDropoutOption(cmd: Command): Command {
  return cmd.option(
    "--dropout <P>",
    "drop probability of the embeddings, attention probabilities and residual branches while training (GPT-2: 0.1; default: the config's, else 0)",
    numberIn(0, 0.95),
  );
}

/**
 * `options` with the model's dropout set from `--dropout` (saved with the model in every
 * checkpoint's config.json, so `--resume` keeps it), or unchanged without the flag.
 */
export function withDropout(options: TrainOptions, dropout: number | undefined): TrainOptions {
  return dropout === undefined ? options : { ...options, model: { ...options.model, dropout } };
}

/**
 * The options of a fresh run from the flags.
 *
 * @param flags The parsed shared flags.
 * @param manifest The token shards' manifest (vocabulary, classes).
 * @param run What the command decides itself: classes in order, schedule, accumulation.
 * @throws {UsageError} If `--data` is missing, `--out` holds a run (without `--force`), the model
 *   config is invalid or `--seq-len` exceeds the context.
 */
export async function freshRunOptions(
  flags: RunFlags,
  manifest: TokensManifest,
  run: { order: string[]; schedule: Schedule; accumulate: number },
): Promise<TrainOptions> {
  if (!flags.force && await Deno.stat(`${flags.out}/latest`).then(() => true, () => false)) {
    throw new UsageError(
      `Cannot start a run in "${flags.out}": it already holds one (use --resume to continue it or --force to start afresh)`,
    );
  }
  if (flags.force) {
    // The run folder is reused, not deleted, but --force still only overwrites a run moe wrote.
    // `moe distill` also reads a teacher run or a teacher cache.
    const { teacher, cache } = flags as RunFlags & Partial<DistillFlags> & { cache?: string };
    const inputs = [flags.data, flags.tokenizer, flags.config, teacher, cache];
    await assertReplaceable(flags.out!, { kind: "dir", inputs });
  }
  const { name, model } = await resolveModel(flags.config, {
    layers: flags.layers,
    dModel: flags.dModel,
    heads: flags.heads,
    contextLength: flags.ctx,
    vocabSize: flags.vocabSize,
  }, manifest.tokenizer.vocabSize);
  const seqLen = flags.seqLen ?? model.contextLength;
  if (seqLen > model.contextLength) {
    throw new UsageError(
      `Invalid --seq-len ${seqLen}: it exceeds the context length ${model.contextLength}`,
    );
  }
  return {
    data: flags.data!,
    modelName: name,
    model,
    batch: flags.batch,
    accumulate: run.accumulate,
    seqLen,
    lr: {
      lr: flags.lr,
      minLr: flags.minLr ?? flags.lr / 10,
      warmup: flags.warmup ?? Math.round(flags.steps * 0.05),
      steps: flags.steps,
      decay: flags.decay,
    },
    adamw: { ...ADAMW_DEFAULTS, weightDecay: flags.weightDecay, clipNorm: flags.clip },
    schedule: run.schedule,
    order: run.order,
    evalEvery: flags.evalEvery,
    evalRows: flags.evalRows,
    checkpointEvery: flags.checkpointEvery,
    keep: flags.keep,
    seed: flags.seed,
  };
}

/**
 * Checks that `--out` was given (declared optional so that subcommands such as `moe distill
 * cache` do not inherit the requirement).
 */
export function requireOut<F extends { out?: string }>(flags: F): F & { out: string } {
  if (flags.out === undefined) throw new UsageError("Missing --out: the run directory");
  return flags as F & { out: string };
}

/** The token shard directory, or a usage error naming the flag. */
export function requireData(flags: RunFlags): string {
  if (flags.data === undefined) {
    throw new UsageError("Missing --data: the token shard directory to train on");
  }
  return flags.data;
}

/**
 * Runs `fn` with SIGINT and SIGTERM handlers that ask the loop to checkpoint and stop after the
 * current step (the {@linkcode StopRequest} records which signal: exit 130 or 143); a second
 * signal exits at once with its code. A progress bar shows on a TTY unless `--json`.
 */
export async function withStopOnSignals<T>(
  flags: GlobalOptions,
  fn: (stop: StopRequest, progress: Progress) => Promise<T>,
): Promise<T> {
  const stop: StopRequest = { requested: false };
  const removeHandler = onStopSignal((signal) => {
    // A second signal does not wait for the checkpoint (locks go on `unload`).
    if (stop.requested) return { action: "exit" };
    stop.requested = true;
    stop.signal = signal;
    return { action: "finish" };
  });
  try {
    return await fn(stop, createProgress({ quiet: flags.json ?? false, unit: "tok" }));
  } finally {
    removeHandler();
  }
}

/**
 * Runs a command's training job: locks the run folder (a second writer stops here, naming the
 * holder), prepares the job (`prepare`: the run's options from the flags, or from the checkpoint
 * on `--resume`), finds the shards' tokenizer, opens the backend, and gives `fn` the loop's
 * context — the run directory, `--resume`, the stop request of SIGINT/SIGTERM, the progress bar
 * and a notice line on stderr. The lock is released however the job ends.
 *
 * A resumed run is locked before its checkpoint is read (a writer could be replacing it); a fresh
 * one after its flags are checked, so that a refused command leaves no lock or folder behind.
 *
 * @param flags The parsed shared flags (`--out` checked).
 * @param prepare Reads what the job needs; its `options.data` is the run's shard directory.
 * @param fn Starts the job with what `prepare` returned and the context.
 * @returns What `fn` returned and the backend's description.
 * @throws {RunLocked} If another process writes the run (exit 1).
 */
export async function runTraining<P extends { options: TrainOptions }, T>(
  flags: RunFlags & { out: string },
  prepare: () => Promise<P>,
  fn: (prepared: P, ctx: TrainContext) => Promise<T>,
): Promise<{ result: T; backend: string }> {
  const notice = (line: string) => console.error(`moe: ${line}`);
  const lock = () => lockRun(flags.out, (line) => notice(`warning: ${line}`));
  return await withStopOnSignals(flags, async (stop, progress) => {
    const resume = flags.resume ?? false;
    const early = resume ? await lock() : null;
    let prepared: P, held: RunLock;
    try {
      prepared = await prepare();
      held = early ?? await lock();
    } catch (error) {
      early?.release();
      throw error;
    }
    try {
      const data = prepared.options.data;
      const tokenizerPath = await findTokenizer(data, await openTokens(data), flags.tokenizer);
      const { backend } = await openCommandBackend(flags);
      const result = await fn(prepared, {
        backend,
        out: flags.out,
        tokenizerPath,
        resume,
        progress,
        stop,
        notice,
      });
      return { result, backend: backend.description };
    } finally {
      held.release();
    }
  });
}

/** Prints a run's summary: one line, then per-class validation, then the checkpoint. */
export function printRunSummary(
  s: TrainSummary,
  backend: string,
  json: boolean,
  extra: Record<string, unknown> = {},
): void {
  if (json) return printJson({ ...s, ...extra, backend });
  console.log(
    `trained ${s.steps} steps (${s.tokens} tokens; ${s.steps - s.startStep} steps in ` +
      `${s.seconds.toFixed(1)} s here), ` +
      `${Math.round(s.tokensPerSecond)} tokens/s on ${backend}; final train loss ${
        s.finalLoss.toFixed(3)
      }`,
  );
  for (const [cls, v] of Object.entries(s.val)) {
    console.log(`  val ${cls}: loss ${v.loss.toFixed(3)}, perplexity ${v.ppl.toFixed(2)}`);
  }
  console.log(`checkpoint ${s.checkpoint}`);
}
