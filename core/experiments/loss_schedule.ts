/**
 * The loss-schedule study (issue #9; paper: "combined beats alternating"): one student trained on
 * `α·CE + (1 − α)·KD` every step, one on CE alone on odd steps and KD alone on even ones — the
 * same seed, data order, teacher and number of steps — compared on final validation CE and on
 * the KD term (how close the student got to the teacher).
 *
 * @module
 */
import type { LossSchedule } from "../distill/mod.ts";
import { fixed, meanStd, type NamedChart, stats } from "../report/mod.ts";
import type { Experiment, ReportParts, SubRunResult } from "./experiment.ts";
import { studentRun, teacherPlan, teacherRuns } from "./distill_jobs.ts";
import type { DistillParams } from "./distill_params.ts";
import {
  claimLine,
  compare,
  distillSetup,
  finalStats,
  stepChart,
  type StudentOutcome,
  studentOutcomes,
  studentTable,
  teacherLosses,
  valChart,
} from "./distill_report.ts";

/** The schedules compared, by sub-run name. */
export const LOSS_SCHEDULES: readonly { name: LossSchedule; label: string }[] = [
  { name: "combined", label: "combined: α·CE + (1−α)·KD" },
  { name: "alternating", label: "alternating: CE, KD, CE, …" },
];

const LABELS = Object.fromEntries(LOSS_SCHEDULES.map((s) => [s.name, s.name]));

/** How α reads in the report. */
function alphaText(p: DistillParams): string {
  const a = p.alpha;
  return a.kind === "fixed" ? String(a.alpha) : a.kind === "paper" ? "adaptive (paper)" : "dwa";
}

/**
 * `moe experiment loss-schedule`: the teacher (unless given) and its validation, then one student
 * per schedule of {@linkcode LOSS_SCHEDULES}.
 *
 * @example
 * ```ts
 * import { lossScheduleExperiment } from "./loss_schedule.ts";
 * import type { DistillParams } from "./distill_params.ts";
 * const p = { teacher: null, teacherTraining: { steps: 200 }, classes: ["fr"], steps: 100, evals: 4 } as DistillParams;
 * const runs = lossScheduleExperiment.subRuns(p, 1);
 * console.assert(runs.map((r) => r.name).join() === "teacher,teacher-val,combined,alternating");
 * console.assert(runs[2]!.after!.join() === "teacher");
 * ```
 */
export const lossScheduleExperiment: Experiment<DistillParams> = {
  name: "loss-schedule",
  title: "Loss schedule: combined vs alternating CE/KD at equal steps",
  subRuns(p, seed) {
    const plan = teacherPlan(p, seed);
    return [
      ...teacherRuns(p, seed, plan),
      ...LOSS_SCHEDULES.map((s) =>
        studentRun(p, seed, plan, {
          name: s.name,
          title: `student, ${s.label}`,
          settings: { alpha: p.alpha, lossSchedule: s.name },
        })
      ),
    ];
  },
  setup: (p) =>
    distillSetup(p) +
    `- combined: α = ${
      alphaText(p)
    } every step; alternating: α = 1 (CE) on odd steps, α = 0 (KD) on even steps\n`,
  report: lossScheduleReport,
};

/**
 * The loss-schedule study's report: final validation CE and the KD term per schedule, the
 * paper's claim checked against the numbers, and plots of validation CE and of the train CE and
 * KD terms over steps.
 *
 * @param p The study's parameters.
 * @param results The sub-runs of each seed.
 * @returns Sections, charts and the JSON results.
 */
export function lossScheduleReport(p: DistillParams, results: SubRunResult[][]): ReportParts {
  const names = LOSS_SCHEDULES.map((s) => s.name);
  const rows = studentOutcomes(results, names);
  const teacher = teacherLosses(results);
  const students = results.flat().filter((r) => (names as string[]).includes(r.name));
  const claim = compare(rows, "combined", "alternating");
  const kd = compare(
    rows.map((r) => ({ ...r, finalCE: r.tailKD })),
    "combined",
    "alternating",
  );
  const finding = [
    claimLine("combined beats alternating", claim, "combined", "alternating"),
    kd.diff.n > 0
      ? `KD term on train batches (last 10 % of steps), combined minus alternating: ${
        kd.diff.mean >= 0 ? "+" : ""
      }${fixed(kd.diff.mean)}${
        kd.diff.n > 1 ? ` ± ${fixed(kd.diff.std)}` : ""
      } (< 0: combined ends closer to the teacher).`
      : "",
    teacher.length > 0
      ? `Teacher on the same windows: ${meanStd(teacher.map((t) => t.loss))} nats/token.`
      : "",
  ].filter((l) => l !== "");
  return {
    sections: [
      { title: "Finding", body: finding.join("\n\n") + "\n" },
      { title: "Final validation CE and KD per schedule", body: table(p, rows, teacher) },
    ],
    charts: charts(students, teacher),
    json: {
      alpha: p.alpha,
      teacherVal: { perSeed: teacher, ...stats(teacher.map((t) => t.loss)) },
      schedules: LOSS_SCHEDULES.map((s) => ({
        name: s.name,
        finalValCE: finalStats(rows, s.name),
        perSeed: rows.filter((r) => r.name === s.name),
      })),
      claims: { combinedVsAlternating: claim, kdCombinedVsAlternating: kd },
    },
  };
}

function table(p: DistillParams, rows: StudentOutcome[], teacher: { loss: number }[]): string {
  return `Validation CE (nats/token) at the students' last evaluation, mean ± std over seeds; ` +
    `“− teacher”: the gap to the teacher's CE on the same windows; CE and KD (τ² = ${
      p.temperature ** 2
    } included) are the train-batch terms over the last 10 % of steps, logged on every step ` +
    "whichever term the step trained on.\n\n" + studentTable(LOSS_SCHEDULES, rows, teacher, false);
}

function charts(
  students: SubRunResult[],
  teacher: { seed: number; loss: number }[],
): NamedChart[] {
  return [
    valChart(students, LABELS, teacher),
    stepChart(students, LABELS, [{ key: "ce", panel: "CE (train)" }, {
      key: "kd",
      panel: "KD (train)",
    }], {
      name: "loss_terms",
      caption: "The CE and KD terms on train batches over steps, per schedule (smoothed)",
      title: "Loss terms over steps",
      yTitle: "nats/token",
      noisy: true,
    }),
  ];
}
