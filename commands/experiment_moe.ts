/**
 * `moe experiment moe-variants`: PLE vs JEET vs MoE-CE (with and without its common expert),
 * the common expert alone and oracle routing, every student distilled from one teacher on an
 * equal budget per class; per-class perplexity, parameters, routing accuracy, the paper's claim.
 *
 * @module
 */
import type { Command } from "commander";
import type { DistillSettings } from "../pipeline/distill/mod.ts";
import { moeVariantsExperiment, moeVariantsParams, PAPER_DISTILL } from "../studies/mod.ts";
import type { VariantsClaim } from "../studies/mod.ts";
import { addDistillOptions, type DistillFlags, distillSettings } from "./_distill_options.ts";
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
import { integerIn } from "./_option_values.ts";

interface MoEVariantsFlags extends ExperimentFlags, DistillFlags, ScaleFlags {
  data: string;
  router?: string;
  tokenizer?: string;
  stepsPerClass?: number;
  teacherSteps?: number;
}

/** The `moe-variants` subcommand. */
export function moeVariantsCommand(): Command {
  const cmd = experimentSubcommand(
    "moe-variants",
    "PLE vs JEET vs MoE-CE (± common expert), common alone, oracle: per-class perplexity, parameters",
  )
    .requiredOption("--data <DIR>", "token shard directory (moe tokenizer encode)")
    .option("--router <FILE>", "router of the shards' classes (moe router train); required")
    .option("--tokenizer <FILE>", "tokenizer.json of the shards (default: the manifest's)")
    .option(
      "--steps-per-class <N>",
      "steps of --batch rows per class, every variant (overrides the scale)",
      integerIn(1, 1e9),
    )
    .option(
      "--teacher-steps <N>",
      "steps of the teacher trained when no --teacher is given",
      integerIn(1, 1e9),
    );
  return addDistillOptions(
    addScaleOptions(cmd, "students' "),
    "teacher run or checkpoint (default: train one at the scale)",
  )
    .addHelpText(
      "after",
      `
Sub-runs per seed: teacher (unless --teacher), one PLE expert per class, a common expert
(balanced), JEET and MoE-CE (KD from the teacher), then "eval": the bundles assembled with
--router and evaluated on the validation split, with the paper's uniform expert averages (en+py,
fr+py, de+py, all; each with and without the common expert). Every variant trains the same steps
per class. The loss is the paper's unless a flag says otherwise: α ½, forward KL at τ 1 without a
τ² factor, every step. Re-running the same command skips finished sub-runs and resumes failed or
interrupted ones.

Examples:
  moe router train --data data/balanced --out router.json
  moe experiment moe-variants --data .demo/tokens --router .demo/router.json --out experiments/moe-variants-tiny
  moe experiment moe-variants --data data/tokens --router router.json --teacher runs/teacher \\
    --scale small --seeds 3 --out docs/results/moe-variants`,
    )
    .action(action(async (flags: MoEVariantsFlags, cmd: Command) => {
      const params = await moeVariantsParams(flags.scale, flags.data, {
        router: flags.router,
        tokenizer: flags.tokenizer,
        teacher: flags.teacher,
        distill: paperUnlessGiven(flags, cmd),
        stepsPerClass: flags.stepsPerClass,
        teacherSteps: flags.teacherSteps,
        batch: flags.batch,
        seqLen: flags.seqLen,
        lr: flags.lr,
        ...modelOverrides(flags),
        evalRows: flags.evalRows,
      });
      const outcome = await runWithFlags(moeVariantsExperiment, params, flags);
      const { claim, summary } = outcome.report as {
        claim: VariantsClaim;
        summary: Record<string, { title: string; ppl: { mean: number; std: number; n: number } }>;
      };
      if (flags.json) return printJson({ out: flags.out, ...overview(outcome), claim, summary });
      printOverview(flags, outcome);
      for (const s of Object.values(summary)) {
        const std = s.ppl.n > 1 ? ` ± ${s.ppl.std.toFixed(2)}` : "";
        console.log(`  ${s.title}: perplexity ${s.ppl.mean.toFixed(2)}${std}`);
      }
      console.log(claim.text.replaceAll("**", ""));
    }));
}

/**
 * The study's loss: the paper's ({@linkcode PAPER_DISTILL}), with each distillation flag given
 * on the command line in place of its field (the flags' own defaults are `moe distill`'s).
 */
function paperUnlessGiven(flags: MoEVariantsFlags, cmd: Command): DistillSettings {
  const given = (flag: string) => cmd.getOptionValueSource(flag) === "cli";
  const d = distillSettings(flags);
  const pick = <K extends keyof DistillSettings>(flag: string, field: K) =>
    given(flag) ? d[field] : PAPER_DISTILL[field];
  const kdScale = pick("kdScale", "kdScale"), alternate = pick("alternate", "alternate");
  return {
    kd: pick("kd", "kd"),
    temperature: pick("temperature", "temperature"),
    alpha: pick("alpha", "alpha"),
    lossSchedule: pick("schedule", "lossSchedule"),
    ...(kdScale ? { kdScale } : {}),
    ...(alternate ? { alternate } : {}),
  };
}
