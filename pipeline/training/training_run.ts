/**
 * What a training run is: the options that define it (saved in every checkpoint), the context it
 * runs in (backend, folder, resume, stop request) and the summary it gives back.
 *
 * @module
 */
import type { Progress, StopRequest } from "../../core/job/mod.ts";
import type { AdamWConfig } from "../../core/optim/mod.ts";
import type { Backend } from "../../core/runtime/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Schedule } from "./batches.ts";
import type { LrSchedule } from "./lr_schedule.ts";
import type { ModelRunner } from "./runner.ts";
import type { TokenData } from "./token_data.ts";
import type { ValReport } from "./validation.ts";

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
   * current step; the `Interrupted` thrown carries the `signal`.
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
