/**
 * What the distillation experiments' reports share: each student's final validation loss and
 * logged α/CE/KD, the teacher's reference loss, paired comparisons over seeds with a verdict on
 * a claim of the paper, and the charts (validation loss per student with the teacher's line,
 * per-step values per student).
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
  stats,
  type TrainRecord,
} from "../report/mod.ts";
import type { SubRunResult } from "./experiment.ts";
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
 * import { parseMetrics } from "../report/mod.ts";
 * const m = parseMetrics('{"event":"train","step":1,"loss":5,"lr":1,"grad_norm":1,"tokens":8,"tokens_per_s":1,"alpha":0.5,"ce":5,"kd":2}\n' +
 *   '{"event":"eval","step":1,"val":{"fr":{"loss":4,"ppl":54.6}}}');
 * const o = studentOutcome("alpha-0.5", 1, m);
 * console.assert(o.finalCE === 4 && o.meanAlpha === 0.5 && o.tailKD === 2);
 * ```
 */
export function studentOutcome(name: string, seed: number, m: RunMetrics): StudentOutcome {
  const last = m.eval.at(-1);
  const tail = m.train.slice(Math.floor(m.train.length * 0.9));
  return {
    name,
    seed,
    finalCE: last ? meanLoss(last.val) : null,
    finalStep: last?.step ?? null,
    meanAlpha: meanOf(m.train, "alpha"),
    tailCE: meanOf(tail, "ce"),
    tailKD: meanOf(tail, "kd"),
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

/** A paired comparison of two students over the seeds both finished. */
export interface Comparison {
  /** Mean over seeds of CE(a) − CE(b) (< 0: a is better), with its spread. */
  diff: Stats;
  /** `agree` when a is better, `disagree` when it is not, `no data` without a common seed. */
  verdict: "agree" | "disagree" | "no data";
  /** Whether |mean difference| is below its standard deviation over seeds (needs ≥ 2 seeds). */
  withinNoise: boolean | null;
}

/**
 * Compares students `a` and `b` seed by seed (same seed, same data order: the differences are
 * paired) on final validation CE.
 *
 * @example
 * ```ts
 * import { compare } from "./distill_report.ts";
 * const row = (name: string, seed: number, finalCE: number) =>
 *   ({ name, seed, finalCE, finalStep: 1, meanAlpha: null, tailCE: null, tailKD: null });
 * const c = compare([row("a", 1, 3.0), row("b", 1, 3.2), row("a", 2, 3.1), row("b", 2, 3.2)], "a", "b");
 * console.assert(c.verdict === "agree" && c.diff.n === 2);
 * ```
 */
export function compare(rows: StudentOutcome[], a: string, b: string): Comparison {
  const ce = (name: string, seed: number) =>
    rows.find((r) => r.name === name && r.seed === seed)?.finalCE ?? null;
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const diffs = seeds.map((s) => [ce(a, s), ce(b, s)] as const)
    .filter((d): d is readonly [number, number] => d[0] !== null && d[1] !== null)
    .map(([x, y]) => x - y);
  const diff = stats(diffs);
  return {
    diff,
    verdict: diff.n === 0 ? "no data" : diff.mean < 0 ? "agree" : "disagree",
    withinNoise: diff.n > 1 ? Math.abs(diff.mean) < diff.std : null,
  };
}

/**
 * One line stating whether the numbers agree with a claim of the paper.
 *
 * @param claim The paper's words.
 * @param c The comparison (a = the side the claim favours).
 * @param a What a is, in words.
 * @param b What b is, in words.
 * @returns Markdown: the verdict, the paired difference and whether it is within the noise.
 *
 * @example
 * ```ts
 * import { claimLine } from "./distill_report.ts";
 * const c = { diff: { mean: -0.02, std: 0.01, n: 2 }, verdict: "agree" as const, withinNoise: false };
 * console.assert(claimLine("combined beats alternating", c, "combined", "alternating").includes("**agree**"));
 * ```
 */
export function claimLine(claim: string, c: Comparison, a: string, b: string): string {
  if (c.verdict === "no data") {
    return `**Paper claim** “${claim}”: no finished pair of runs to compare yet.`;
  }
  const sign = c.diff.mean >= 0 ? "+" : "";
  const spread = c.diff.n > 1 ? ` ± ${fixed(c.diff.std)}` : "";
  const noise = c.withinNoise === null
    ? " (one seed: run more seeds to see the spread)"
    : c.withinNoise
    ? " — the difference is within its spread over seeds"
    : "";
  return `**Paper claim** “${claim}”: **${c.verdict}** — ${a} minus ${b}: ${sign}${
    fixed(c.diff.mean)
  }${spread} nats/token of final validation CE over ${c.diff.n} seed${
    c.diff.n > 1 ? "s" : ""
  }${noise}.`;
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

/** Setup lines shared by the distillation experiments' reports. */
export function distillSetup(p: DistillParams): string {
  const m = p.model, t = p.teacherTraining;
  const teacher = p.teacher !== null
    ? `\`${p.teacher}\` (given)`
    : `trained per seed: ${t!.modelName} (${t!.model.layers} layers, d ${t!.model.dModel}), ${
      t!.steps
    } steps of balanced batches of ${t!.classes.join(", ")}, lr ${t!.lr}`;
  return [
    `- scale: \`${p.scale}\`; data: \`${p.data}\`; the students learn: ${p.classes.join(", ")}\n`,
    `- teacher: ${teacher}\n`,
    `- students: ${p.modelName} (${m.layers} layers, d ${m.dModel}, ${m.heads} heads, ctx ${m.contextLength}, vocab ${m.vocabSize}); same seed, initialization and data order for all\n`,
    `- budget per student: ${p.steps} steps × ${p.batch} rows × ${p.seqLen} tokens = ${
      p.steps * p.batch * p.seqLen
    } tokens; AdamW, lr ${p.lr}, 5 % warm-up, cosine decay to lr/10\n`,
    `- KD: ${p.kd} KL at τ = ${p.temperature} (scaled by τ²), online teacher\n`,
    `- validation: ${p.evalRows} rows of ${p.seqLen} tokens per class, ${p.evals} times per run; CE is the mean over the students' classes\n`,
  ].join("");
}

/**
 * The students' table: final validation CE, the gap to the teacher, optionally mean α, and the
 * train CE and KD terms over the last 10 % of steps, each mean ± std over seeds.
 *
 * @param variants The students in row order: sub-run name and label.
 * @param rows Their outcomes.
 * @param teacher The teacher's loss per seed.
 * @param withAlpha Whether to show the mean α column.
 */
export function studentTable(
  variants: readonly { name: string; label: string }[],
  rows: StudentOutcome[],
  teacher: { loss: number }[],
  withAlpha: boolean,
): string {
  const t = teacher.length > 0 ? stats(teacher.map((x) => x.loss)).mean : NaN;
  const col = (xs: StudentOutcome[], k: "finalCE" | "meanAlpha" | "tailCE" | "tailKD") => {
    const v = xs.map((x) => x[k]).filter((x): x is number => x !== null);
    return v.length > 0 ? meanStd(v) : "–";
  };
  return mdTable(
    [
      "student",
      "final val CE",
      "− teacher",
      ...(withAlpha ? ["mean α"] : []),
      "train CE (last 10 %)",
      "train KD (last 10 %)",
      "seeds",
    ],
    variants.map((v) => {
      const xs = rows.filter((r) => r.name === v.name);
      const ce = finalStats(rows, v.name);
      return [
        v.label,
        col(xs, "finalCE"),
        ce.n > 0 && Number.isFinite(t) ? fixed(ce.mean - t) : "–",
        ...(withAlpha ? [col(xs, "meanAlpha")] : []),
        col(xs, "tailCE"),
        col(xs, "tailKD"),
        String(ce.n),
      ];
    }),
  );
}
