/**
 * `moe train-moe`: train a JEET or MoE-CE mixture jointly on token shards, one class's batch
 * per step in turn, with the checkpoints, resume and metrics of `moe train`.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "../core/cli/mod.ts";
import {
  MOE_CHECKPOINT_FORMAT,
  type MoECheckpointConfig,
  type MoEDistill,
  trainMoE,
} from "../core/moe/mod.ts";
import { openTokens } from "../core/tokenizer/mod.ts";
import type { TrainOptions, TrainSummary } from "../core/training/mod.ts";
import { MOE_VARIANTS, type MoEConfig, type MoEVariant } from "../models/moe.ts";
import { action, printJson, standardCommand } from "./_run.ts";
import {
  addDistillOptions,
  addRunOptions,
  type DistillFlags,
  distillSettings,
  freshRunOptions,
  requireData,
  requireOut,
  type RunFlags,
  runTraining,
} from "./_training.ts";
import { distillRules, resumeRun } from "./_resume.ts";

interface TrainMoEFlags extends RunFlags, DistillFlags {
  variant: MoEVariant;
  classes?: string;
}

/** The `train-moe` command. */
export function trainMoECommand(): Command {
  const cmd = standardCommand(
    "train-moe",
    "Train a JEET or MoE-CE mixture: shared embedding and head, one block stack per class",
  );
  return addDistillOptions(
    addRunOptions(cmd, { config: "tiny", steps: 1000, lr: 6e-4 }),
    "distil from this teacher (a moe train run) instead of training on CE alone",
  )
    .addOption(
      new Option(
        "--variant <NAME>",
        "jeet: one stack per class; moe-ce: plus a common stack averaged with the routed one",
      ).choices(MOE_VARIANTS).default("jeet"),
    )
    .option("--classes <A,B,…>", "expert classes, in turn (default: every class of the shards)")
    .addHelpText(
      "after",
      `
Each step trains one class's batch through that class's stack (and the common stack for
moe-ce); only those and the shared embedding are updated. Assemble the result with
moe assemble --from-moe RUN.

Examples:
  moe train-moe --variant jeet --data data/tokens --config tiny --steps 800 --out runs/jeet
  moe train-moe --variant moe-ce --data data/tokens --config bench --batch 8 --out runs/moe-ce
  moe train-moe --variant jeet --data data/tokens --teacher runs/teacher --alpha adaptive --out runs/jeet-kd
  moe train-moe --out runs/moe-ce --resume`,
    )
    .action(action(async (given: TrainMoEFlags, cmd: Command) => {
      const flags = requireOut(given);
      const { result, backend } = await runTraining(
        flags,
        () => flags.resume ? resumed(cmd, flags) : fresh(flags),
        async ({ moe, options, distill }, ctx) => ({
          moe,
          summary: await trainMoE(moe, options, ctx, distill),
        }),
      );
      report(result.moe, result.summary, backend, flags.json ?? false);
    }));
}

type Run = { moe: MoEConfig; options: TrainOptions; distill: MoEDistill | null };

/** The run's own MoE, options and teacher, with what the flags may change (`_resume.ts`). */
async function resumed(cmd: Command, flags: TrainMoEFlags & { out: string }): Promise<Run> {
  const { point, options } = await resumeRun(cmd, flags, [MOE_CHECKPOINT_FORMAT], (point) => {
    const c = point.config as MoECheckpointConfig;
    return {
      variant: { keep: "variant", value: c.moe.variant },
      classes: {
        keep: "classes",
        value: c.moe.classes,
        same: (classes) =>
          String(classes).split(",").map((s) => s.trim()).join() === c.moe.classes.join(),
      },
      ...distillRules(c.distill ?? null),
    };
  });
  const c = point.config as MoECheckpointConfig;
  return { moe: c.moe, options, distill: c.distill ?? null };
}

async function fresh(flags: TrainMoEFlags): Promise<Run> {
  const manifest = await openTokens(requireData(flags));
  const classes = flags.classes?.split(",").map((s) => s.trim()) ?? manifest.classes;
  const unknown = classes.filter((c) => !manifest.classes.includes(c));
  if (unknown.length > 0 || new Set(classes).size !== classes.length || classes.length === 0) {
    throw new UsageError(
      `Invalid --classes "${flags.classes}": expected distinct classes of the shards (${
        manifest.classes.join(", ")
      })`,
    );
  }
  const options = await freshRunOptions(flags, manifest, {
    order: classes,
    schedule: "round-robin",
    accumulate: 1,
  });
  const moe: MoEConfig = { model: options.model, classes, variant: flags.variant };
  const distill = flags.teacher === undefined
    ? null
    : { teacher: flags.teacher, ...distillSettings(flags) };
  return { moe, options, distill };
}

function report(moe: MoEConfig, s: TrainSummary, backend: string, json: boolean): void {
  if (json) return printJson({ variant: moe.variant, classes: moe.classes, ...s, backend });
  console.log(
    `trained ${moe.variant} (${moe.classes.join(", ")}) ${s.steps} steps (${s.tokens} tokens), ` +
      `${Math.round(s.tokensPerSecond)} tokens/s on ${backend}`,
  );
  for (const [cls, v] of Object.entries(s.val)) {
    console.log(
      `  val ${cls} (its expert${moe.variant === "moe-ce" ? " + common" : ""}): loss ${
        v.loss.toFixed(3)
      }, perplexity ${v.ppl.toFixed(2)}`,
    );
  }
  console.log(`checkpoint ${s.checkpoint}`);
}
