/**
 * What the distillation experiments' reports share: each student's final validation loss and
 * logged α/CE/KD, the teacher's reference loss, the students' table, the setup lines, and the
 * charts (validation loss per student with the teacher's line,
 * per-step values per student). Paired comparisons of students over seeds: `distill_comparison.ts`.
 *
 * @module
 */
import {
  fixed,
  lineChart,
  mdTable,
  meanStd,
  type NamedChart,
  type RunMetrics,
  type SeriesPoint,
  shownPath,
  stats,
  type TrainRecord,
} from "../../core/report/mod.ts";
import type { SubRunResult } from "../experiment.ts";
import { TEACHER_VAL_RUN } from "./distill_jobs.ts";
import type { DistillParams } from "./distill_params.ts";

/** Mean, sample standard deviation and count over seeds. */
export type Stats = ReturnType<typeof stats>;

/** One student of one seed, as the reports use it. */
export interface StudentOutcome {
  name: string;
  seed: number;
  /** Validation CE of the last evaluation, mean over the student's classes (null: none yet). */
  finalCE: number | null;
  /** Step of that evaluation. */
  finalStep: number | null;
  /** Mean α over the logged steps. */
  meanAlpha: number | null;
  /** Mean train CE and KD terms over the last 10 % of the logged steps. */
  tailCE: number | null;
  tailKD: number | null;
  /** {@linkcode instability} of the train CE term (null: too few steps logged). */
  instability: number | null;
}

/** The share of a run's last steps over which {@linkcode instability} is measured. */
export const STABILITY_TAIL = 0.25;

/**
 * Instability of a run: the standard deviation of the train CE term (the true-token
 * cross-entropy, logged on every step whatever the step trained on) over the last
 * {@linkcode STABILITY_TAIL} of the logged steps, in nats/token; lower is more stable. Training
 * on CE alone and KD alone in turn makes CE swing from step to step, which this measures; the
 * batches' own variation is common to runs with the same seed and data order.
 *
 * @returns null with fewer than 4 values in the tail.
 * @example
 * ```ts
 * import { instability } from "./distill_report.ts";
 * const steady = Array.from({ length: 40 }, () => 3);
 * const swinging = Array.from({ length: 40 }, (_, i) => 3 + (i % 2 ? 0.1 : -0.1));
 * console.assert(instability(steady) === 0 && instability(swinging)! > 0.1);
 * ```
 */
export function instability(ce: readonly number[]): number | null {
  const tail = ce.slice(Math.floor(ce.length * (1 - STABILITY_TAIL)));
  return tail.length >= 4 ? stats([...tail]).std : null;
}

/** Mean validation loss over classes of an eval record's `val`. */
function meanLoss(val: Record<string, { loss: number }>): number {
  return stats(Object.values(val).map((v) => v.loss)).mean;
}

/** The mean of `key` over train records, or null when none logged it. */
function meanOf(rows: TrainRecord[], key: "alpha" | "ce" | "kd"): number | null {
  const xs = rows.map((r) => r[key]).filter((x): x is number => typeof x === "number");
  return xs.length > 0 ? stats(xs).mean : null;
}

/**
 * One student's outcome from its metrics.
 *
 * @example
 * ```ts
 * import { studentOutcome } from "./distill_report.ts";
 * import { parseMetrics } from "../../core/report/mod.ts";
 * const m = parseMetrics('{"event":"train","step":1,"loss":5,"lr":1,"grad_norm":1,"tokens":8,"tokens_per_s":1,"alpha":0.5,"ce":5,"kd":2}\n' +
 *   '{"event":"eval","step":1,"val":{"fr":{"loss":4,"ppl":54.6}}}');
 * const o = studentOutcome("alpha-0.5", 1, m);
 * console.assert(o.finalCE === 4 && o.meanAlpha === 0.5 && o.tailKD === 2);
 * ```
 */
export function studentOutcome(name: string, seed: number, m: RunMetrics): StudentOutcome {
  const last = m.eval.at(-1);
  const tail = m.train.slice(Math.floor(m.train.length * 0.9));
  const ce = m.train.map((t) => t.ce).filter((x): x is number => typeof x === "number");
  return {
    name,
    seed,
    finalCE: last ? meanLoss(last.val) : null,
    finalStep: last?.step ?? null,
    meanAlpha: meanOf(m.train, "alpha"),
    tailCE: meanOf(tail, "ce"),
    tailKD: meanOf(tail, "kd"),
    instability: instability(ce),
  };
}

/** The outcomes of the named students over all seeds, in `names` order, then seed order. */
export function studentOutcomes(results: SubRunResult[][], names: string[]): StudentOutcome[] {
  const flat = results.flat();
  return names.flatMap((n) =>
    flat.filter((r) => r.name === n).map((r) => studentOutcome(r.name, r.seed, r.metrics))
  );
}

/** The teacher's validation loss per seed (mean over the students' classes). */
export function teacherLosses(results: SubRunResult[][]): { seed: number; loss: number }[] {
  return results.flat().filter((r) => r.name === TEACHER_VAL_RUN && r.metrics.eval.length > 0)
    .map((r) => ({ seed: r.seed, loss: meanLoss(r.metrics.eval[0]!.val) }));
}

/** Final validation CE of one student over the seeds that have one. */
export function finalStats(rows: StudentOutcome[], name: string): Stats {
  return stats(rows.filter((r) => r.name === name && r.finalCE !== null).map((r) => r.finalCE!));
}

/**
 * Validation loss over steps, one line per student (mean over seeds, ±1 std band), and the
 * teacher's loss as a flat reference line.
 *
 * @param runs The students' sub-runs.
 * @param label The legend label of each student, by sub-run name.
 * @param teacher The teacher's loss per seed.
 */
export function valChart(
  runs: SubRunResult[],
  label: Record<string, string>,
  teacher: { seed: number; loss: number }[],
): NamedChart {
  const points: SeriesPoint[] = [];
  for (const r of runs) {
    for (const e of r.metrics.eval) {
      points.push({ x: e.step, y: meanLoss(e.val), series: label[r.name]!, seed: r.seed });
    }
  }
  const steps = points.map((p) => p.x);
  if (steps.length > 0) {
    for (const t of teacher) {
      for (const x of [Math.min(...steps), Math.max(...steps)]) {
        points.push({ x, y: t.loss, series: "teacher", seed: t.seed });
      }
    }
  }
  return {
    name: "val_loss",
    caption: "Validation CE of each student over steps, and the teacher's on the same windows",
    spec: lineChart({
      title: "Student validation loss",
      xTitle: "step",
      yTitle: "validation CE (nats/token)",
      points,
      markers: true,
    }),
  };
}

/**
 * A per-step value (α, CE or KD) of each student, one line per student.
 *
 * @param runs The students' sub-runs.
 * @param label The legend label of each student, by sub-run name.
 * @param keys The logged values to draw, each in its own panel when several.
 * @param o Chart name, caption, titles, and whether the lines are noisy (drawn faint + smoothed).
 */
export function stepChart(
  runs: SubRunResult[],
  label: Record<string, string>,
  keys: { key: "alpha" | "ce" | "kd"; panel: string }[],
  o: { name: string; caption: string; title: string; yTitle: string; noisy: boolean },
): NamedChart {
  const points: SeriesPoint[] = [];
  for (const r of runs) {
    for (const t of r.metrics.train) {
      for (const { key, panel } of keys) {
        const y = t[key];
        if (typeof y !== "number") continue;
        points.push({
          x: t.step,
          y,
          series: label[r.name]!,
          seed: r.seed,
          ...(keys.length > 1 ? { facet: panel } : {}),
        });
      }
    }
  }
  return {
    name: o.name,
    caption: o.caption,
    spec: lineChart({
      title: o.title,
      xTitle: "step",
      yTitle: o.yTitle,
      points,
      ...(o.noisy ? { faint: Object.values(label) } : {}),
    }),
  };
}

/**
 * The KD setting in words: direction, τ and whether τ² scales it.
 *
 * @example
 * ```ts
 * import { kdText } from "./distill_report.ts";
 * console.assert(kdText({ kd: "forward", temperature: 1, kdScale: "none" }) === "forward KL at τ = 1, no τ² factor (the paper's setting)");
 * console.assert(kdText({ kd: "forward", temperature: 2 }) === "forward KL at τ = 2, scaled by τ² = 4");
 * ```
 */
export function kdText(
  s: { kd: "forward" | "reverse"; temperature: number; kdScale?: "tau2" | "none" },
): string {
  const paper = s.kd === "forward" && s.temperature === 1;
  const scale = s.kdScale === "none" || s.temperature === 1
    ? "no τ² factor"
    : `scaled by τ² = ${s.temperature ** 2}`;
  return `${s.kd} KL at τ = ${s.temperature}, ${scale}${paper ? " (the paper's setting)" : ""}`;
}

/** Setup lines shared by the distillation experiments' reports. */
export function distillSetup(p: DistillParams): string {
  const m = p.model, t = p.teacherTraining;
  const teacher = p.teacher !== null
    ? `\`${shownPath(p.teacher)}\` (given)`
    : `trained per seed: ${t!.modelName} (${t!.model.layers} layers, d ${t!.model.dModel}), ${
      t!.steps
    } steps of balanced batches of ${t!.classes.join(", ")}, lr ${t!.lr}`;
  return [
    `- scale: \`${p.scale}\`; data: \`${shownPath(p.data)}\`; the students learn: ${
      p.classes.join(", ")
    }\n`,
    `- teacher: ${teacher}\n`,
    `- students: ${p.modelName} (${m.layers} layers, d ${m.dModel}, ${m.heads} heads, ctx ${m.contextLength}, vocab ${m.vocabSize}); same seed, initialization and data order for all\n`,
    `- budget per student: ${p.steps} steps × ${p.batch} rows × ${p.seqLen} tokens = ${
      p.steps * p.batch * p.seqLen
    } tokens; AdamW, lr ${p.lr}, 5 % warm-up, cosine decay to lr/10\n`,
    `- KD: ${kdText(p)}; online teacher\n`,
    `- validation: ${p.evalRows} rows of ${p.seqLen} tokens per class, ${p.evals} times per run; CE is the mean over the students' classes\n`,
  ].join("");
}

/**
 * The students' table: final validation CE, the gap to the teacher, optionally mean α and the
 * instability, and the train CE and KD terms over the last 10 % of steps, each mean ± std over
 * seeds.
 *
 * @param variants The students in row order: sub-run name and label.
 * @param rows Their outcomes.
 * @param teacher The teacher's loss per seed.
 * @param show Which optional columns to show.
 */
export function studentTable(
  variants: readonly { name: string; label: string }[],
  rows: StudentOutcome[],
  teacher: { loss: number }[],
  show: { alpha: boolean; instability: boolean },
): string {
  const t = teacher.length > 0 ? stats(teacher.map((x) => x.loss)).mean : NaN;
  const col = (
    xs: StudentOutcome[],
    k: "finalCE" | "meanAlpha" | "tailCE" | "tailKD" | "instability",
  ) => {
    const v = xs.map((x) => x[k]).filter((x): x is number => x !== null);
    return v.length > 0 ? meanStd(v) : "–";
  };
  return mdTable(
    [
      "student",
      "final val CE",
      "− teacher",
      ...(show.alpha ? ["mean α"] : []),
      "train CE (last 10 %)",
      "train KD (last 10 %)",
      ...(show.instability ? ["instability"] : []),
      "seeds",
    ],
    variants.map((v) => {
      const xs = rows.filter((r) => r.name === v.name);
      const ce = finalStats(rows, v.name);
      return [
        v.label,
        col(xs, "finalCE"),
        ce.n > 0 && Number.isFinite(t) ? fixed(ce.mean - t) : "–",
        ...(show.alpha ? [col(xs, "meanAlpha")] : []),
        col(xs, "tailCE"),
        col(xs, "tailKD"),
        ...(show.instability ? [col(xs, "instability")] : []),
        String(ce.n),
      ];
    }),
  );
}
