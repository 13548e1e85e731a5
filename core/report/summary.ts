/**
 * The summary of one training run from its metrics: length, tokens, throughput, final train loss,
 * the last per-class validation, and the validation at the end of every phase of a sequential run.
 *
 * @module
 */
import type { EvalRecord, RunMetrics } from "./run_metrics.ts";

/** Per-class validation loss and perplexity. */
export type ClassVal = EvalRecord["val"];

/** What `moe report` and the experiments say about one run. */
export interface RunSummary {
  /** Last logged optimizer step (0 when none was logged). */
  steps: number;
  tokens: number;
  /** Throughput of the last process that trained the run (tokens/s), or null. */
  tokensPerSecond: number | null;
  /** Train loss of the last step. */
  finalTrainLoss: number | null;
  /** Mean train loss over the last 10 % of the logged steps (less noisy than the last step). */
  tailTrainLoss: number | null;
  /** The last evaluation, or null. */
  val: ClassVal | null;
  valStep: number | null;
  /** Sequential runs: the last evaluation of each phase (its end), in phase order. */
  phases: { phase: string; step: number; val: ClassVal }[];
  /** Last α of a distillation run, or null. */
  finalAlpha: number | null;
  divergedAt: number | null;
}

/**
 * Summarizes a run's metrics.
 *
 * @param m The parsed metrics.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { parseMetrics, summarizeRun } from "./mod.ts";
 * const s = summarizeRun(parseMetrics(
 *   '{"event":"train","step":1,"loss":5,"lr":1,"grad_norm":1,"tokens":64,"tokens_per_s":9}\n' +
 *     '{"event":"eval","step":1,"phase":"en","val":{"en":{"loss":4,"ppl":54.6}}}',
 * ));
 * console.assert(s.steps === 1 && s.phases[0]!.phase === "en" && s.val!.en!.loss === 4);
 * ```
 */
export function summarizeRun(m: RunMetrics): RunSummary {
  const last = m.train.at(-1);
  const lastEval = m.eval.at(-1);
  const tail = m.train.slice(Math.floor(m.train.length * 0.9));
  const phases: RunSummary["phases"] = [];
  for (const e of m.eval) {
    if (e.phase === undefined) continue;
    const current = phases.at(-1);
    if (current?.phase === e.phase) Object.assign(current, { step: e.step, val: e.val });
    else phases.push({ phase: e.phase, step: e.step, val: e.val });
  }
  const alpha = m.train.findLast((r) => typeof r.alpha === "number")?.alpha;
  return {
    steps: last?.step ?? 0,
    tokens: last?.tokens ?? 0,
    tokensPerSecond: last?.tokens_per_s ?? null,
    finalTrainLoss: last?.loss ?? null,
    tailTrainLoss: tail.length > 0 ? tail.reduce((s, r) => s + r.loss, 0) / tail.length : null,
    val: lastEval?.val ?? null,
    valStep: lastEval?.step ?? null,
    phases,
    finalAlpha: alpha ?? null,
    divergedAt: m.divergedAt,
  };
}
