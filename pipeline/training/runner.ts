/**
 * What the training loop drives: one model's graphs loaded on a backend. The loop owns batches,
 * the learning-rate schedule, evaluation, metrics and checkpoints; a runner owns the graphs and
 * their state. `GPTRunner` (a teacher), the distillation runner (a student beside a teacher) and
 * the MoE runners (one stack per class) all plug into the same loop.
 *
 * @module
 */
import type { HostTensor } from "../../core/runtime/mod.ts";
import type { Batch } from "./batches.ts";

/** One optimizer step's result. */
export interface StepOutcome {
  /** The objective that was minimised (mean over micro-batches). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Named parts logged beside the loss (e.g. `ce`, `kd`, `alpha` of a distillation step). */
  parts?: Record<string, number>;
}

/** A model's graphs on a backend, as the training loop sees them. */
export interface ModelRunner {
  /** Runs one optimizer step on `batch` at learning rate `lr` (`step` is 1-based). */
  step(batch: Batch, lr: number, step: number): Promise<StepOutcome>;
  /**
   * Mean next-token cross-entropy of one validation batch of class `cls` (targets −1 are not
   * counted).
   */
  evalLoss(cls: string, tokens: BigInt64Array, targets: BigInt64Array): Promise<number>;
  /** Parameters and optimizer state, copied to the host. */
  readState(): Promise<Record<string, HostTensor>>;
  /** Saves the whole state as safetensors with `metadata`. */
  save(path: string, metadata: Record<string, string>): Promise<void>;
  /** Restores state saved by `save`. */
  load(path: string): Promise<Record<string, string>>;
  /** Writes the model files of a checkpoint (at least `model.onnx`) into `dir`. */
  writeModel(dir: string, state: Readonly<Record<string, HostTensor>>): Promise<void>;
  /** Host-side state beyond tensors (e.g. an adaptive α's loss history), for checkpoints. */
  position?(): unknown;
  /** Restores what `position` returned. */
  restorePosition?(saved: unknown): void;
  dispose(): Promise<void>;
}
