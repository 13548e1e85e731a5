/**
 * `moe train-moe`: train a JEET or MoE-CE mixture jointly on token shards, one class's batch
 * per step in turn, with the checkpoints, resume and metrics of `moe train`.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import {
  MOE_CHECKPOINT_FORMAT,
  type MoECheckpointConfig,
  type MoEDistill,
  trainMoE,
} from "../pipeline/moe/mod.ts";
import { openTokens } from "../core/tokenizer/mod.ts";
import type { TrainOptions, TrainSummary } from "../pipeline/training/mod.ts";
import type { GPTConfig } from "../models/gpt.ts";
import { MOE_VARIANTS, type MoEConfig, type MoEVariant } from "../models/moe.ts";
import { hasCommonStack } from "../models/moe_variant_specs.ts";
import { action, printJson, standardCommand } from "./_run.ts";
import {
  addRunOptions,
  freshRunOptions,
  requireData,
  requireOut,
  type RunFlags,
  runTraining,
} from "./_training.ts";
import { addDistillOptions, type DistillFlags, distillSettings } from "./_distill_options.ts";
import { distillRules, resumeRun } from "./_resume.ts";

/** How the shared LM head is made (`GPTConfig.head`). */
type HeadKind = NonNullable<GPTConfig["head"]>;
const HEAD_KINDS: readonly HeadKind[] = ["tied", "untied"];

interface TrainMoEFlags extends RunFlags, DistillFlags {
  variant: MoEVariant;
  classes?: string;
  head?: HeadKind;
}

/** The `train-moe` command. */
export function trainMoECommand(): Command {
  const cmd = standardCommand(
    "train-moe",
    "Train a JEET or MoE-CE mixture: shared embedding and head, one block stack per class",
  );
  return addDistillOptions(
    addRunOptions(cmd, { config: "tiny", steps: 1000, lr: 6e-4 }),
    "distil from this teacher (a moe train run or a Hugging Face GPT-2 folder) instead of CE alone",
  )
    .addOption(
      new Option(
        "--variant <NAME>",
        "jeet: one stack per class; moe-ce: plus a common stack averaged with the routed one",
      ).choices(MOE_VARIANTS).default("jeet"),
    )
    .option("--classes <A,B,…>", "expert classes, in turn (default: every class of the shards)")
    .addOption(
      new Option(
        "--head <KIND>",
        "shared LM head: tied (the embedding, GPT-2's) or untied (its own table, the paper's; default: tied, or the --config file's)",
      ).choices(HEAD_KINDS),
    )
    .addHelpText(
      "after",
      `
Each step trains one class's batch through that class's stack (and the common stack for
moe-ce); only those and the shared embedding (and head) are updated. --head untied is the
paper's separate head without its bias, which GPT-2's lm_head cannot hold. Assemble the result
with moe assemble --from-moe RUN, or export its experts for transformers with moe export.

Examples:
  moe train-moe --variant jeet --data data/tokens --config tiny --steps 800 --out runs/jeet
  moe train-moe --variant moe-ce --data data/tokens --config bench --batch 8 --out runs/moe-ce
  moe train-moe --variant moe-ce --head untied --data data/tokens --config tiny --out runs/moe-ce-untied
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
      head: { keep: "head", value: c.moe.model.head ?? "tied" },
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
  const run = await freshRunOptions(flags, manifest, {
    order: classes,
    schedule: "round-robin",
    accumulate: 1,
  });
  // Saved with the model in every checkpoint, so --resume, assemble, eval and export follow it.
  const options = flags.head === undefined
    ? run
    : { ...run, model: withHead(run.model, flags.head) };
  const moe: MoEConfig = { model: options.model, classes, variant: flags.variant };
  const distill = flags.teacher === undefined
    ? null
    : { teacher: flags.teacher, ...distillSettings(flags) };
  return { moe, options, distill };
}

/** `model` with its head set: `untied` recorded, `tied` as GPT-2 configs have it (no field). */
function withHead(model: GPTConfig, head: HeadKind): GPTConfig {
  const { head: _, ...rest } = model;
  return head === "untied" ? { ...rest, head } : rest;
}

function report(moe: MoEConfig, s: TrainSummary, backend: string, json: boolean): void {
  const head = moe.model.head ?? "tied";
  if (json) return printJson({ variant: moe.variant, classes: moe.classes, head, ...s, backend });
  console.log(
    `trained ${moe.variant} (${
      moe.classes.join(", ")
    }, ${head} head) ${s.steps} steps (${s.tokens} tokens), ` +
      `${Math.round(s.tokensPerSecond)} tokens/s on ${backend}`,
  );
  for (const [cls, v] of Object.entries(s.val)) {
    console.log(
      `  val ${cls} (its expert${hasCommonStack(moe.variant) ? " + common" : ""}): loss ${
        v.loss.toFixed(3)
      }, perplexity ${v.ppl.toFixed(2)}`,
    );
  }
  console.log(`checkpoint ${s.checkpoint}`);
}
