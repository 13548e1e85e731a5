/**
 * The forgetting study (paper: sequential training forgets earlier languages, one session with
 * balanced batches and the MoE do not). Same model and token budget in every regime:
 *
 * - (a) `sequential`: the classes one after another in `order`, one phase each;
 * - (b) `balanced`: one session, every batch an equal share of each class;
 * - (c) `moe`: PLE experts (one distilled per class) behind the router — pending
 *   {@linkcode moeRegimeSubRuns}, which waits for `moe distill` and `moe assemble`.
 *
 * Every regime is evaluated on every class's validation split at each phase end.
 *
 * @module
 */
import { ADAMW_DEFAULTS } from "../optim/mod.ts";
import type { Schedule, TrainOptions } from "../training/mod.ts";
import type { Experiment, SubRun } from "./experiment.ts";
import type { ForgettingParams } from "./forgetting_params.ts";
import { forgettingReport } from "./forgetting_report.ts";
import { trainJob } from "./train_job.ts";

/** A regime that is one training run. */
export interface TrainedRegime {
  name: string;
  title: string;
  schedule: Schedule;
}

/** Regimes (a) and (b). */
export const TRAINED_REGIMES: readonly TrainedRegime[] = [
  { name: "sequential", title: "(a) sequential: one class after another", schedule: "sequential" },
  { name: "balanced", title: "(b) one session, balanced batches", schedule: "balanced" },
];

/**
 * The training options of a regime: the same model, batches and token budget for all, 5 %
 * warm-up then cosine decay to a tenth (the paper's schedule), evaluations (and checkpoints, so
 * a resumed sub-run loses little) `evalsPerPhase` times per phase.
 *
 * @param p The study's parameters.
 * @param schedule The regime's schedule.
 * @param seed The seed.
 * @returns Options for `train()`.
 */
export function regimeOptions(p: ForgettingParams, schedule: Schedule, seed: number): TrainOptions {
  const every = p.steps / (p.order.length * p.evalsPerPhase);
  return {
    data: p.data,
    modelName: p.modelName,
    model: p.model,
    batch: p.batch,
    accumulate: p.accumulate,
    seqLen: p.seqLen,
    lr: {
      lr: p.lr,
      minLr: p.lr / 10,
      warmup: Math.round(p.steps * 0.05),
      steps: p.steps,
      decay: "cosine",
    },
    adamw: ADAMW_DEFAULTS,
    schedule,
    order: p.order,
    evalEvery: every,
    evalRows: p.evalRows,
    checkpointEvery: every,
    keep: 1,
    seed,
  };
}

/**
 * Regime (c), the MoE: to be filled once `moe distill` and `moe assemble` exist. It returns the
 * sub-runs that distil one PLE expert per class (in `p.order`, from a teacher trained like the
 * balanced regime or given), assemble them with the router, and end with a sub-run named `moe`
 * whose `metrics.jsonl` holds one `eval` record at each phase-end step (`phaseEnds(p.steps, P)`):
 * the MoE's per-class validation with experts 1 … j in place. The report then treats it like the
 * other regimes. Until then it returns no sub-runs and the report marks (c) as pending.
 *
 * @param _p The study's parameters.
 * @param _seed The seed.
 * @returns The MoE regime's sub-runs (none yet).
 */
export function moeRegimeSubRuns(_p: ForgettingParams, _seed: number): SubRun[] {
  // TODO: waits for `moe distill` and `moe assemble` (issue #9, regime c).
  return [];
}

/** `moe experiment forgetting`. */
export const forgettingExperiment: Experiment<ForgettingParams> = {
  name: "forgetting",
  title: "Forgetting study: sequential vs balanced training (vs MoE)",
  subRuns(p, seed) {
    return [
      ...TRAINED_REGIMES.map((r) =>
        trainJob({
          name: r.name,
          title: r.title,
          options: regimeOptions(p, r.schedule, seed),
          tokenizerPath: p.tokenizerPath,
        })
      ),
      ...moeRegimeSubRuns(p, seed),
    ];
  },
  setup(p) {
    const m = p.model;
    const tokens = p.steps * p.batch * p.accumulate * p.seqLen;
    return [
      `- scale: \`${p.scale}\`; data: \`${p.data}\`; class order: ${p.order.join(" → ")}\n`,
      `- model: ${p.modelName} (${m.layers} layers, d ${m.dModel}, ${m.heads} heads, ctx ${m.contextLength}, vocab ${m.vocabSize})\n`,
      `- budget per regime: ${p.steps} steps × ${
        p.batch * p.accumulate
      } rows × ${p.seqLen} tokens = ${tokens} tokens; ` +
      `sequential phases of ${p.steps / p.order.length} steps\n`,
      `- AdamW (weight decay ${ADAMW_DEFAULTS.weightDecay}, clip ${ADAMW_DEFAULTS.clipNorm}), lr ${p.lr}, 5 % warm-up, cosine decay to lr/10\n`,
      `- validation: ${p.evalRows} rows of ${p.seqLen} tokens per class, ${p.evalsPerPhase} times per phase\n`,
    ].join("");
  },
  report: forgettingReport,
};
