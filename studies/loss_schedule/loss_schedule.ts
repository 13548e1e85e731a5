/**
 * The loss-schedule study (issue #9; paper: "combined beats alternating", and "the combined loss
 * gives more stable learning"): students trained on `α·CE + (1 − α)·KD` every step, on CE alone
 * and KD alone in turn — per step (each class's visits alternate) and per micro-batch (CE on one
 * half of every step, KD on the other: the paper's code) — and the combined student once more
 * with the same seed, whose gap to the first is the run-to-run noise. The same seed, data order,
 * teacher and number of steps for all; compared on final validation CE, on the KD term and on the
 * stability of the train CE.
 *
 * @module
 */
import type { Alternation, LossSchedule } from "../../pipeline/distill/mod.ts";
import { fixed, meanStd, type NamedChart, stats } from "../../core/report/mod.ts";
import type { Experiment, ReportParts, SubRunResult } from "../experiment.ts";
import { studentRun, teacherPlan, teacherRuns } from "../distillation/distill_jobs.ts";
import type { DistillParams } from "../distillation/distill_params.ts";
import {
  distillSetup,
  finalStats,
  STABILITY_TAIL,
  stepChart,
  type StudentOutcome,
  studentOutcomes,
  studentTable,
  teacherLosses,
  valChart,
} from "../distillation/distill_report.ts";
import {
  claimLine,
  compare,
  type Comparison,
  comparisonCell,
} from "../distillation/distill_comparison.ts";
import { statisticsSection } from "../statistics_section.ts";

/** One student of the study. */
export interface ScheduleVariant {
  /** Sub-run name. */
  name: string;
  /** Table row label. */
  label: string;
  /** Legend label of the plots. */
  legend: string;
  schedule: LossSchedule;
  alternate: Alternation;
}

/** The students compared, by sub-run name. */
export const LOSS_SCHEDULES: readonly ScheduleVariant[] = [
  {
    name: "combined",
    label: "combined: α·CE + (1−α)·KD every step",
    legend: "combined",
    schedule: "combined",
    alternate: "step",
  },
  {
    name: "alternating",
    label: "alternating steps: CE, KD, CE, … on each class's steps",
    legend: "alternating steps",
    schedule: "alternating",
    alternate: "step",
  },
  {
    name: "alternating-micro",
    label: "alternating micro-batches: CE on one half of every step, KD on the other",
    legend: "alternating micro-batches",
    schedule: "alternating",
    alternate: "micro-batch",
  },
  {
    name: "combined-repeat",
    label: "combined, run again with the same seed (noise floor)",
    legend: "combined (repeat)",
    schedule: "combined",
    alternate: "step",
  },
];

/** The repeated run: its gap to `combined` is the run-to-run noise, not an effect. */
const REPEAT = "combined-repeat";
const LEGEND = Object.fromEntries(LOSS_SCHEDULES.map((s) => [s.name, s.legend]));

/** How α reads in the report. */
function alphaText(p: DistillParams): string {
  const a = p.alpha;
  return a.kind === "fixed" ? String(a.alpha) : a.kind === "paper" ? "adaptive (paper)" : "dwa";
}

/**
 * `moe experiment loss-schedule`: the teacher (unless given) and its validation, then one student
 * per entry of {@linkcode LOSS_SCHEDULES}.
 *
 * @example
 * ```ts
 * import { lossScheduleExperiment } from "./loss_schedule.ts";
 * import type { DistillParams } from "../distillation/distill_params.ts";
 * const p = { teacher: null, teacherTraining: { steps: 200 }, classes: ["fr"], steps: 100, evals: 4 } as DistillParams;
 * const runs = lossScheduleExperiment.subRuns(p, 1);
 * console.assert(runs.map((r) => r.name).join() === "teacher,teacher-val,combined,alternating,alternating-micro,combined-repeat");
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
          settings: { alpha: p.alpha, lossSchedule: s.schedule, alternate: s.alternate },
        })
      ),
    ];
  },
  setup: (p) =>
    distillSetup(p) +
    `- combined: α = ${alphaText(p)} every step; alternating steps: α = 1 (CE alone) and α = 0 ` +
    "(KD alone) on each class's steps in turn (with batches of every class: odd and even steps); " +
    "alternating micro-batches: every step's batch cut in two halves, CE alone on the first and " +
    "KD alone on the second, the two gradients averaged before the one update\n",
  report: lossScheduleReport,
};

/**
 * The loss-schedule study's report: final validation CE, the KD term and the instability per
 * student, the paper's claims checked against the numbers, the noise floor, and plots of
 * validation CE and of the train CE and KD terms over steps.
 *
 * @param p The study's parameters.
 * @param results The sub-runs of each seed.
 * @returns Sections, charts and the JSON results.
 */
export function lossScheduleReport(p: DistillParams, results: SubRunResult[][]): ReportParts {
  const names = LOSS_SCHEDULES.map((s) => s.name);
  const rows = studentOutcomes(results, names);
  const teacher = teacherLosses(results);
  const students = results.flat().filter((r) => names.includes(r.name) && r.name !== REPEAT);
  const claims = scheduleClaims(rows);
  const noise = compare(rows, "combined", REPEAT);
  const noiseFloor = noise.perSeed.length > 0
    ? Math.max(...noise.perSeed.map((d) => Math.abs(d.diff)))
    : null;
  const finding = findingLines(claims, noise, noiseFloor, teacher);
  return {
    sections: [
      { title: "Finding", body: finding.join("\n\n") + "\n" },
      { title: "Final validation CE and KD per schedule", body: table(p, rows, teacher) },
      statisticsSection(
        `The run-to-run noise is measured, not assumed: the combined student runs twice with the same seed (${REPEAT}); their gap is reported above.`,
      ),
    ],
    charts: charts(students, teacher),
    json: {
      alpha: p.alpha,
      teacherVal: { perSeed: teacher, ...stats(teacher.map((t) => t.loss)) },
      schedules: LOSS_SCHEDULES.map((s) => ({
        name: s.name,
        label: s.label,
        schedule: s.schedule,
        alternate: s.alternate,
        finalValCE: finalStats(rows, s.name),
        instability: stats(
          rows.filter((r) => r.name === s.name && r.instability !== null).map((r) =>
            r.instability!
          ),
        ),
        perSeed: rows.filter((r) => r.name === s.name),
      })),
      claims,
      noise: { comparison: noise, floor: noiseFloor },
    },
  };
}

/** What {@linkcode scheduleClaims} compares. */
type ScheduleClaims = ReturnType<typeof scheduleClaims>;

/** The paper's claims as paired comparisons: combined against each alternation. */
function scheduleClaims(rows: StudentOutcome[]) {
  return {
    combinedVsAlternating: compare(rows, "combined", "alternating"),
    combinedVsAlternatingMicro: compare(rows, "combined", "alternating-micro"),
    kdCombinedVsAlternating: compare(rows, "combined", "alternating", "tailKD"),
    stabilityCombinedVsAlternating: compare(rows, "combined", "alternating", "instability"),
    stabilityCombinedVsAlternatingMicro: compare(
      rows,
      "combined",
      "alternating-micro",
      "instability",
    ),
  };
}

/** The finding's paragraphs: each claim's verdict, the KD term, the noise floor, the teacher. */
function findingLines(
  claims: ScheduleClaims,
  noise: Comparison,
  noiseFloor: number | null,
  teacher: { loss: number }[],
): string[] {
  return [
    claimLine(
      "combined beats alternating",
      claims.combinedVsAlternating,
      "combined",
      "alternating steps",
    ),
    claimLine(
      "combined beats alternating",
      claims.combinedVsAlternatingMicro,
      "combined",
      "alternating micro-batches (the paper's alternation)",
    ),
    claimLine(
      "the combined loss gives more stable learning",
      claims.stabilityCombinedVsAlternating,
      "combined",
      "alternating steps",
      `nats/token of instability (std of the train CE over the last ${
        100 * STABILITY_TAIL
      } % of steps)`,
    ),
    claimLine(
      "the combined loss gives more stable learning",
      claims.stabilityCombinedVsAlternatingMicro,
      "combined",
      "alternating micro-batches",
      "nats/token of instability",
    ),
    claims.kdCombinedVsAlternating.diff.n > 0
      ? `KD term on train batches (last 10 % of steps), combined minus alternating steps: ${
        comparisonCell(claims.kdCombinedVsAlternating)
      } (< 0: combined ends closer to the teacher).`
      : "",
    noiseText(noise, noiseFloor),
    teacher.length > 0
      ? `Teacher on the same windows: ${meanStd(teacher.map((t) => t.loss))} nats/token.`
      : "",
  ].filter((l) => l !== "");
}

/** The noise floor in words: the gap between two runs of the same configuration and seed. */
function noiseText(noise: Comparison, floor: number | null): string {
  if (floor === null) return "";
  const exact = floor === 0
    ? "the repeated runs are bit-identical, so every difference above is between settings, not runs"
    : "differences between settings smaller than this are run-to-run noise";
  return `Noise floor: combined run twice with the same seed differs by at most ${
    fixed(floor, 6)
  } nats/token of final validation CE over ${noise.perSeed.length} seed${
    noise.perSeed.length === 1 ? "" : "s"
  } — ${exact}.`;
}

function table(p: DistillParams, rows: StudentOutcome[], teacher: { loss: number }[]): string {
  const scale = p.kdScale === "none" || p.temperature === 1
    ? "no τ² factor"
    : `τ² = ${p.temperature ** 2} included`;
  return `Validation CE (nats/token) at the students' last evaluation, mean ± std over seeds; ` +
    `“− teacher”: the gap to the teacher's CE on the same windows; CE and KD (${scale}) are the ` +
    "train-batch terms over the last 10 % of steps, logged on every step whichever term the step " +
    "trained on (with micro-batches: CE of the CE half, KD of the KD half); instability: the " +
    `standard deviation of the train CE over the last ${100 * STABILITY_TAIL} % of steps.\n\n` +
    studentTable(LOSS_SCHEDULES, rows, teacher, { alpha: false, instability: true });
}

function charts(
  students: SubRunResult[],
  teacher: { seed: number; loss: number }[],
): NamedChart[] {
  return [
    valChart(students, LEGEND, teacher),
    stepChart(students, LEGEND, [{ key: "ce", panel: "CE (train)" }, {
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
