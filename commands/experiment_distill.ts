/**
 * `moe experiment alpha` and `moe experiment loss-schedule`: the distillation experiments of
 * issue #9. Both distil students of the same teacher (`--teacher DIR`, or one trained at the
 * scale) with the same seed, data order and budget, differing only in the α rule or in the loss
 * schedule, and report final validation CE per student with the paper's claim checked.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { parseAlpha } from "../pipeline/distill/mod.ts";
import { KD_SCALES, type KDScale } from "../core/losses/mod.ts";
import {
  alphaExperiment,
  type Comparison,
  type DistillParams,
  distillParams,
  type Experiment,
  lossScheduleExperiment,
  type Stats,
} from "../studies/mod.ts";
import { action, printJson } from "./_run.ts";
import {
  addScaleOptions,
  type ExperimentFlags,
  experimentSubcommand,
  modelOverrides,
  overview,
  printOverview,
  runWithFlags,
  type ScaleFlags,
} from "./_experiment_common.ts";
import { integerIn, numberIn } from "./_option_values.ts";

interface DistillExperimentFlags extends ExperimentFlags, ScaleFlags {
  data: string;
  teacher?: string;
  teacherSteps?: number;
  lang?: string;
  tokenizer?: string;
  steps?: number;
  temperature?: number;
  kd?: "forward" | "reverse";
  kdScale?: KDScale;
  alpha?: string;
  evals?: number;
  evalRows?: number;
}

/** The overrides both experiments take: [flags, help, parser]. */
const OVERRIDES: [string, string, (v: string) => number][] = [
  ["--teacher-steps <N>", "steps of the teacher trained when no --teacher", integerIn(1, 1e9)],
  ["--steps <N>", "optimizer steps per student", integerIn(1, 1e9)],
  ["--temperature <T>", "softmax temperature of the KD term", numberIn(0.05, 100)],
  ["--evals <N>", "evaluations (and checkpoints) per student", integerIn(1, 1000)],
];

/** A distillation experiment's subcommand: the shared flags and the scale overrides. */
function distillSubcommand(name: string, description: string): Command {
  const cmd = experimentSubcommand(name, description)
    .requiredOption("--data <DIR>", "token shard directory (moe tokenizer encode)")
    .option("--teacher <DIR>", "teacher checkpoint (moe train run); default: train one per seed")
    .option("--lang <CLASS|all>", "the class the students learn, or all (the default)")
    .option("--tokenizer <FILE>", "tokenizer.json of the shards (default: the manifest's)");
  for (const [flags, help, parse] of OVERRIDES) {
    cmd.option(flags, `${help} (overrides the scale)`, parse);
  }
  return addScaleOptions(cmd, "students' ").addOption(
    new Option("--kd <DIR>", "KD direction: forward KL(p_T‖q_S) or reverse (overrides the scale)")
      .choices(["forward", "reverse"]),
  ).addOption(
    new Option("--kd-scale <HOW>", "tau2: KD × τ²; none: plain KL (overrides the scale's none)")
      .choices(KD_SCALES),
  );
}

/** The parameters from the flags. */
function params(flags: DistillExperimentFlags): Promise<DistillParams> {
  return distillParams(flags.scale, flags.data, {
    teacher: flags.teacher,
    teacherSteps: flags.teacherSteps,
    lang: flags.lang,
    tokenizer: flags.tokenizer,
    student: modelOverrides(flags),
    steps: flags.steps,
    batch: flags.batch,
    seqLen: flags.seqLen,
    lr: flags.lr,
    temperature: flags.temperature,
    kd: flags.kd,
    kdScale: flags.kdScale,
    alpha: flags.alpha === undefined ? undefined : parseAlpha(flags.alpha),
    evals: flags.evals,
    evalRows: flags.evalRows,
  });
}

/** What both reports' JSON hold per student and per claim. */
interface Results {
  rules?: { label: string; finalValCE: Stats }[];
  schedules?: { name: string; finalValCE: Stats }[];
  claims: Record<string, Comparison> | null;
}

/** Runs the experiment and prints one line per student and the claim's verdict. */
async function runAndPrint(
  exp: Experiment<DistillParams>,
  flags: DistillExperimentFlags,
  claim: { key: string; text: string },
): Promise<void> {
  const outcome = await runWithFlags(exp, await params(flags), flags);
  const results = outcome.report as Results;
  if (flags.json) return printJson({ out: flags.out, ...overview(outcome), results });
  printOverview(flags, outcome);
  const students = results.rules ??
    results.schedules!.map((s) => ({ label: s.name, finalValCE: s.finalValCE }));
  for (const s of students) {
    const m = s.finalValCE;
    const std = m.n > 1 ? ` ± ${m.std.toFixed(3)}` : "";
    console.log(`  ${s.label}: final val CE ${m.n > 0 ? m.mean.toFixed(3) + std : "–"}`);
  }
  const c = results.claims?.[claim.key];
  if (c) console.log(`  paper: "${claim.text}": ${c.verdict}`);
}

/** `moe experiment alpha`. */
export function alphaCommand(): Command {
  return distillSubcommand(
    "alpha",
    "Fixed α ∈ {0.25, 0.5, 0.75} vs the paper's adaptive α vs ours (dwa): final CE, α curves",
  )
    .addHelpText(
      "after",
      `
One student per α rule, all with the same seed, data order, budget and teacher, learning every
class (--lang for one). The report has the final validation CE per rule (mean ± std over
--seeds, default 3), the best rule, the paper's claim ("adaptive α is marginally better than
fixed") checked with a paired 95 % t interval, and plots of the validation CE and of α over
steps. Re-running the same command skips finished sub-runs and resumes failed or interrupted ones.

Examples:
  moe experiment alpha --data .demo/tokens --teacher .demo/teacher --out experiments/alpha-tiny
  moe experiment alpha --data data/tokens --teacher runs/teacher --scale small --seeds 5 --out docs/results/alpha
  moe experiment alpha --data data/tokens --lang fr --steps 200 --out runs/alpha-fr`,
    )
    .action(action((flags: DistillExperimentFlags) =>
      runAndPrint(alphaExperiment, flags, {
        key: "adaptiveVsBestFixed",
        text: "adaptive α is marginally better than fixed",
      })
    ));
}

/** `moe experiment loss-schedule`. */
export function lossScheduleCommand(): Command {
  return distillSubcommand(
    "loss-schedule",
    "Combined α·CE + (1−α)·KD vs alternating CE/KD (per step, per micro-batch), at equal steps",
  )
    .option("--alpha <X|RULE>", "α of the combined run: [0, 1], adaptive or dwa (default 0.5)")
    .addHelpText(
      "after",
      `
Students with the same seed, data order, budget and teacher: the combined loss every step; CE
alone and KD alone on alternate steps; CE on one half of every step and KD on the other (the
paper's micro-batch alternation); and the combined student again (the noise floor). The report
has the final validation CE, the KD term and the instability (std of the train CE over the last
quarter of steps) per student, the paper's claims ("combined beats alternating", "more stable")
checked with paired 95 % t intervals, and plots of the validation CE and of the loss terms.

Examples:
  moe experiment loss-schedule --data .demo/tokens --teacher .demo/teacher --out experiments/schedule-tiny
  moe experiment loss-schedule --data data/tokens --teacher runs/teacher --scale small --seeds 5 --out docs/results/loss-schedule
  moe experiment loss-schedule --data data/tokens --alpha 0.25 --out runs/schedule-a25`,
    )
    .action(action((flags: DistillExperimentFlags) =>
      runAndPrint(lossScheduleExperiment, flags, {
        key: "combinedVsAlternating",
        text: "combined beats alternating",
      })
    ));
}
