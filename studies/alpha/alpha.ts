/**
 * The α study (issue #9; paper: "adaptive α is marginally better than fixed"): one student per
 * rule for the weight α of `α·CE + (1 − α)·KD` — fixed 0.25, 0.5, 0.75, the paper's adaptive
 * rule and ours (`dwa`) — each with the same seed, data order and budget, distilled from the
 * same teacher; compared on final validation CE, with α over steps.
 *
 * @module
 */
import { fixed, meanStd, type NamedChart, stats } from "../../core/report/mod.ts";
import { parseAlpha } from "../../pipeline/distill/mod.ts";
import type { Experiment, ReportParts, Section, SubRunResult } from "../experiment.ts";
import { studentRun, teacherPlan, teacherRuns } from "../distillation/distill_jobs.ts";
import type { DistillParams } from "../distillation/distill_params.ts";
import {
  distillSetup,
  finalStats,
  type Stats,
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

/** One α rule under study. */
export interface AlphaVariant {
  /** Sub-run name. */
  name: string;
  /** Legend label. */
  label: string;
  /** `--alpha` text ({@linkcode parseAlpha}). */
  alpha: string;
}

/** The rules compared: three fixed values, the paper's adaptive rule, ours. */
export const ALPHA_VARIANTS: readonly AlphaVariant[] = [
  { name: "alpha-0.25", label: "α = 0.25", alpha: "0.25" },
  { name: "alpha-0.5", label: "α = 0.5", alpha: "0.5" },
  { name: "alpha-0.75", label: "α = 0.75", alpha: "0.75" },
  { name: "alpha-adaptive", label: "adaptive (paper)", alpha: "adaptive" },
  { name: "alpha-dwa", label: "dwa (ours)", alpha: "dwa" },
];

const FIXED = ALPHA_VARIANTS.filter((v) => parseAlpha(v.alpha).kind === "fixed");
const LABELS = Object.fromEntries(ALPHA_VARIANTS.map((v) => [v.name, v.label]));

/**
 * `moe experiment alpha`: the teacher (unless given) and its validation, then one student per
 * rule of {@linkcode ALPHA_VARIANTS}.
 *
 * @example
 * ```ts
 * import { alphaExperiment } from "./alpha.ts";
 * import type { DistillParams } from "../distillation/distill_params.ts";
 * const p = { teacher: "/runs/teacher", teacherTraining: null, classes: ["fr"], steps: 100, evals: 4 } as DistillParams;
 * const names = alphaExperiment.subRuns(p, 1).map((r) => r.name);
 * console.assert(names.join() === "teacher-val,alpha-0.25,alpha-0.5,alpha-0.75,alpha-adaptive,alpha-dwa");
 * ```
 */
export const alphaExperiment: Experiment<DistillParams> = {
  name: "alpha",
  title: "α study: fixed α vs the paper's adaptive rule vs ours (dwa)",
  subRuns(p, seed) {
    const plan = teacherPlan(p, seed);
    return [
      ...teacherRuns(p, seed, plan),
      ...ALPHA_VARIANTS.map((v) =>
        studentRun(p, seed, plan, {
          name: v.name,
          title: `student, ${v.label}`,
          settings: { alpha: parseAlpha(v.alpha), lossSchedule: "combined" },
        })
      ),
    ];
  },
  setup: (p) =>
    distillSetup(p) + "- α rules: " + ALPHA_VARIANTS.map((v) => v.label).join(", ") +
    "; combined loss every step\n",
  report: alphaReport,
};

/**
 * The α study's report: the table of final validation CE per rule, the best rule, the paper's
 * claim checked against the numbers, and plots of validation CE and α over steps.
 *
 * @param p The study's parameters.
 * @param results The sub-runs of each seed.
 * @returns Sections, charts and the JSON results.
 */
export function alphaReport(_p: DistillParams, results: SubRunResult[][]): ReportParts {
  const names = ALPHA_VARIANTS.map((v) => v.name);
  const rows = studentOutcomes(results, names);
  const teacher = teacherLosses(results);
  const students = results.flat().filter((r) => names.includes(r.name));
  const ranked = ALPHA_VARIANTS.map((v) => ({ ...v, ce: finalStats(rows, v.name) }))
    .filter((v) => v.ce.n > 0).sort((a, b) => a.ce.mean - b.ce.mean);
  const bestFixed = ranked.find((v) => FIXED.some((f) => f.name === v.name));
  const claims: AlphaClaims | null = bestFixed
    ? {
      adaptiveVsBestFixed: compare(rows, "alpha-adaptive", bestFixed.name),
      dwaVsAdaptive: compare(rows, "alpha-dwa", "alpha-adaptive"),
      dwaVsBestFixed: compare(rows, "alpha-dwa", bestFixed.name),
    }
    : null;
  const halfShare = adaptiveAtHalf(students);
  const finding = findingLines(ranked, bestFixed, claims, halfShare, teacher);
  const sections: Section[] = [
    { title: "Finding", body: finding.join("\n\n") + "\n" },
    { title: "Final validation CE per α rule", body: table(rows, teacher) },
    statisticsSection(
      "Run-to-run noise: α = 0.5 is the configuration of the loss-schedule study's combined student, which that study runs twice with the same seed; its report gives their gap.",
    ),
  ];
  return {
    sections,
    charts: charts(students, teacher),
    json: {
      teacherVal: { perSeed: teacher, ...stats(teacher.map((t) => t.loss)) },
      rules: ALPHA_VARIANTS.map((v) => ({
        name: v.name,
        label: v.label,
        alpha: v.alpha,
        finalValCE: finalStats(rows, v.name),
        perSeed: rows.filter((r) => r.name === v.name),
      })),
      best: ranked[0]?.name ?? null,
      bestFixed: bestFixed?.name ?? null,
      adaptiveAtHalf: halfShare,
      claims,
    },
  };
}

/** The paired comparisons of the rules (made once a fixed α has a final CE). */
interface AlphaClaims {
  adaptiveVsBestFixed: Comparison;
  dwaVsAdaptive: Comparison;
  dwaVsBestFixed: Comparison;
}

/**
 * The finding's paragraphs: the best rule, the paper's claim and ours against it, how often the
 * paper's rule stayed at ½, and the teacher's loss.
 */
function findingLines(
  ranked: readonly { label: string; ce: Stats }[],
  bestFixed: AlphaVariant | undefined,
  claims: AlphaClaims | null,
  halfShare: number | null,
  teacher: { loss: number }[],
): string[] {
  return [
    ranked.length > 0
      ? `Best rule by mean final validation CE: **${ranked[0]!.label}** (${
        fixed(ranked[0]!.ce.mean)
      } nats/token).`
      : "No student has been evaluated yet.",
    ...(claims && bestFixed
      ? [
        claimLine(
          "adaptive α is marginally better than fixed",
          claims.adaptiveVsBestFixed,
          "adaptive",
          `the best fixed α (${bestFixed.label})`,
        ),
        `Ours (dwa) minus the paper's adaptive rule: ${
          comparisonCell(claims.dwaVsAdaptive)
        } nats/token (${claims.dwaVsAdaptive.verdict}); minus the best fixed α: ${
          comparisonCell(claims.dwaVsBestFixed)
        } (${claims.dwaVsBestFixed.verdict}). Mean difference [95 % interval] over seeds.`,
        "The best fixed α is picked by its mean over these same seeds, which favours it slightly.",
      ]
      : []),
    ...(halfShare !== null
      ? [
        `The paper's rule gave α = 0.5 exactly on ${
          fixed(halfShare * 100, 1)
        } % of its steps (it moves only when a loss rises).`,
      ]
      : []),
    ...(teacher.length > 0
      ? [`Teacher on the same windows: ${meanStd(teacher.map((t) => t.loss))} nats/token.`]
      : []),
  ];
}

/** The share of the adaptive student's logged steps whose α was exactly ½ (null: none logged). */
function adaptiveAtHalf(students: SubRunResult[]): number | null {
  const alphas = students.filter((r) => r.name === "alpha-adaptive")
    .flatMap((r) => r.metrics.train.map((t) => t.alpha))
    .filter((a): a is number => typeof a === "number");
  return alphas.length > 0 ? alphas.filter((a) => a === 0.5).length / alphas.length : null;
}

function table(rows: StudentOutcome[], teacher: { loss: number }[]): string {
  return "Validation CE (nats/token) at the students' last evaluation, mean ± std over seeds; " +
    "“− teacher”: the gap to the teacher's CE on the same windows; train CE and KD: the terms " +
    "on train batches (KD as trained: see the setup for its τ² factor).\n\n" +
    studentTable(ALPHA_VARIANTS, rows, teacher, {
      alpha: true,
      instability: false,
    });
}

function charts(
  students: SubRunResult[],
  teacher: { seed: number; loss: number }[],
): NamedChart[] {
  return [
    valChart(students, LABELS, teacher),
    stepChart(students, LABELS, [{ key: "alpha", panel: "α" }], {
      name: "alpha",
      caption: "α (weight of CE) over steps for each rule",
      title: "α over steps",
      yTitle: "α",
      noisy: false,
    }),
  ];
}
