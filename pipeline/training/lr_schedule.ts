/**
 * The learning-rate schedule: linear warm-up, then cosine or linear decay to a floor. It lives
 * outside the graph; the trainer feeds its value as the `lr` input of every step.
 *
 * @module
 */

/** Shape of the learning-rate curve. */
export interface LrSchedule {
  /** Peak learning rate, reached at the end of warm-up. */
  lr: number;
  /** Floor reached at the last step. */
  minLr: number;
  /** Steps of linear warm-up from lr/warmup to lr (the paper: 5 % of the steps). */
  warmup: number;
  /** Optimizer steps in the whole run. */
  steps: number;
  /** How the rate falls after warm-up. */
  decay: "cosine" | "linear" | "constant";
}

/** The decay shapes `--decay` accepts. */
export const DECAYS: readonly LrSchedule["decay"][] = ["cosine", "linear", "constant"];

/**
 * The learning rate at optimizer step `step` (counting from 1).
 *
 * ```
 * step ≤ warmup:  lr · step / warmup
 * after:          p = (step − warmup) / (steps − warmup)
 *                 cosine: minLr + ½ (lr − minLr)(1 + cos πp);  linear: lr − (lr − minLr) p
 * ```
 *
 * @param s The schedule.
 * @param step Optimizer step, 1-based.
 * @returns The learning rate.
 *
 * @example
 * ```ts
 * import { learningRate } from "./lr_schedule.ts";
 * const s = { lr: 1e-3, minLr: 1e-4, warmup: 10, steps: 110, decay: "cosine" as const };
 * console.assert(learningRate(s, 5) === 5e-4 && learningRate(s, 10) === 1e-3);
 * console.assert(Math.abs(learningRate(s, 110) - 1e-4) < 1e-12);
 * ```
 */
export function learningRate(s: LrSchedule, step: number): number {
  if (s.warmup > 0 && step <= s.warmup) return (s.lr * step) / s.warmup;
  if (s.decay === "constant" || s.steps <= s.warmup) return s.lr;
  const p = Math.min(1, Math.max(0, (step - s.warmup) / (s.steps - s.warmup)));
  if (s.decay === "linear") return s.lr - (s.lr - s.minLr) * p;
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * p));
}
