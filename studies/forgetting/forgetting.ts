/**
 * The forgetting study (paper: sequential training forgets earlier languages, one session with
 * balanced batches and the MoE do not). Same model and token budget in every regime:
 *
 * - (a) `sequential`: the classes one after another in `order`, one phase each;
 * - (b) `balanced`: one session, every batch an equal share of each class;
 * - (c) `moe`: one expert per class trained on its class alone (PLE), combined with oracle
 *   routing ({@linkcode moeRegimeSubRuns}).
 *
 * Every regime is evaluated on every class's validation split at each phase end.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../core/files/mod.ts";
import { loadTeacher, teacherValidation } from "../../pipeline/distill/mod.ts";
import { ADAMW_DEFAULTS } from "../../core/optim/mod.ts";
import type { Schedule, TrainOptions } from "../../pipeline/training/mod.ts";
import type { Experiment, SubRun } from "../experiment.ts";
import type { ForgettingParams } from "./forgetting_params.ts";
import { phaseEnds } from "./forgetting_analysis.ts";
import { forgettingReport } from "./forgetting_report.ts";
import { experimentTrainOptions } from "../run_options.ts";
import { trainJob } from "../train_job.ts";

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
  return experimentTrainOptions({ ...p, schedule, every, seed });
}

/**
 * Regime (c), the MoE: one expert per class (the same model, `steps / P` steps on its class
 * alone, so the regime spends the same token budget), then a sub-run `moe` that logs, at each
 * phase-end step j, the validation of the MoE holding experts 1 … j: a class that has its expert
 * is routed to it (oracle routing — the router's accuracy is measured by `moe router eval` and
 * `moe eval`); a class without one yet gets the best existing expert. An expert, once trained, is
 * never touched again, so its own class cannot be forgotten: its forgetting is 0 by construction
 * (each expert's checkpoint is evaluated once, and that value stands for every later phase), and
 * the report says so rather than presenting it as a measurement.
 *
 * @param p The study's parameters.
 * @param seed The seed.
 * @returns The experts' sub-runs and the `moe` sub-run.
 */
export function moeRegimeSubRuns(p: ForgettingParams, seed: number): SubRun[] {
  const P = p.order.length;
  const experts = p.order.map((c) => {
    const steps = Math.floor(p.steps / P);
    const o = regimeOptions({ ...p, steps, order: [c] }, "balanced", seed);
    return trainJob({
      name: `expert-${c}`,
      title: `(c) ${c} expert`,
      options: o,
      tokenizerPath: p.tokenizerPath,
    });
  });
  const moe: SubRun = {
    name: "moe",
    title: "(c) MoE: one expert per class, oracle routing",
    after: experts.map((e) => e.name),
    async run(dir, ctx) {
      const o = regimeOptions(p, "balanced", seed);
      const loss = new Map<string, Record<string, number>>(); // expert → class → loss
      for (const c of p.order) {
        const teacher = await loadTeacher(ctx.dirOf(`expert-${c}`));
        const val = await teacherValidation(ctx.env.backend, teacher, o, p.order);
        loss.set(c, Object.fromEntries(Object.entries(val).map(([k, v]) => [k, v.loss])));
      }
      const lines = phaseEnds(p.steps, P).map((step, j) => {
        const present = p.order.slice(0, j + 1);
        const val = Object.fromEntries(p.order.map((c) => {
          const l = present.includes(c)
            ? loss.get(c)![c]!
            : Math.min(...present.map((e) => loss.get(e)![c]!));
          return [c, { loss: l, ppl: Math.exp(l) }];
        }));
        return JSON.stringify({ event: "eval", step, phase: p.order[j], val }) + "\n";
      });
      await writeFileAtomic(join(dir, "metrics.jsonl"), lines.join(""));
    },
  };
  return [...experts, moe];
}

/** `moe experiment forgetting`. */
export const forgettingExperiment: Experiment<ForgettingParams> = {
  name: "forgetting",
  title: "Forgetting study: sequential vs balanced training vs MoE",
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
