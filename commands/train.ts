/**
 * `moe train`: train the GPT-2 teacher on token shards, with checkpoints, exact resume and
 * mixed, balanced or sequential schedules.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { openTokens } from "../core/tokenizer/mod.ts";
import { type Schedule, SCHEDULES, train, type TrainOptions } from "../pipeline/training/mod.ts";
import { action, standardCommand } from "./_run.ts";
import {
  addDropoutOption,
  addRunOptions,
  freshRunOptions,
  printRunSummary,
  requireData,
  requireOut,
  type RunFlags,
  runTraining,
  withDropout,
} from "./_training.ts";
import { dropoutRule, resumeRun } from "./_resume.ts";
import { integerIn } from "./_option_values.ts";

interface TrainFlags extends RunFlags {
  accumulate: number;
  dropout?: number;
  schedule: Schedule;
  order?: string;
}

/** The `train` command. */
export function trainCommand(): Command {
  const cmd = standardCommand(
    "train",
    "Train a GPT-2 teacher on token shards (moe tokenizer encode)",
  );
  return addDropoutOption(addRunOptions(cmd, { config: "gpt2-small", steps: 1000, lr: 6e-4 }))
    .option("--accumulate <N>", "micro-batches per optimizer step", integerIn(1, 65536), 1)
    .addOption(
      new Option(
        "--schedule <KIND>",
        "mixed: random rows; balanced: equal share of every class per batch; sequential: one class after another; round-robin: whole batches of one class in turn",
      )
        .choices(SCHEDULES).default("mixed"),
    )
    .option(
      "--order <A,B,…>",
      "class order for sequential phases and balanced cycles (default: the shards')",
    )
    .addHelpText(
      "after",
      `
Examples:
  moe train --data data/tokens --config tiny --steps 500 --out runs/tiny
  moe train --data data/tokens --config gpt2-medium --batch 8 --accumulate 8 --out runs/teacher
  moe train --data data/tokens --config tiny --schedule sequential --order en,fr,de,py --out runs/seq
  moe train --data data/tokens --config bench --dropout 0.1 --out runs/dropout
  moe train --out runs/teacher --resume`,
    )
    .action(action(async (given: TrainFlags, cmd: Command) => {
      const flags = requireOut(given);
      const { result, backend } = await runTraining(
        flags,
        async () => ({
          options: flags.resume ? await resumedOptions(cmd, flags) : await freshOptions(flags),
        }),
        ({ options }, ctx) => train(options, ctx),
      );
      printRunSummary(result, backend, flags.json ?? false);
    }));
}

/** The run's own options, with what the flags may change (see `_resume.ts`). */
async function resumedOptions(
  cmd: Command,
  flags: TrainFlags & { out: string },
): Promise<TrainOptions> {
  const { options } = await resumeRun(cmd, flags, ["moe-gpt"], (_, o) => ({
    dropout: dropoutRule(o),
    accumulate: { keep: "accumulation", value: o.accumulate },
    schedule: { keep: "schedule", value: o.schedule },
    order: {
      keep: "class order",
      value: o.order,
      same: (order) => String(order).split(",").map((c) => c.trim()).join() === o.order.join(),
    },
  }));
  return options;
}

async function freshOptions(flags: TrainFlags): Promise<TrainOptions> {
  const manifest = await openTokens(requireData(flags));
  const order = flags.order?.split(",").map((s) => s.trim()) ?? manifest.classes;
  const unknown = order.filter((c) => !manifest.classes.includes(c));
  if (
    unknown.length > 0 || new Set(order).size !== order.length ||
    order.length !== manifest.classes.length
  ) {
    throw new UsageError(
      `Invalid --order "${flags.order}": expected each of ${
        manifest.classes.join(", ")
      } exactly once`,
    );
  }
  const options = await freshRunOptions(flags, manifest, {
    order,
    schedule: flags.schedule,
    accumulate: flags.accumulate,
  });
  return withDropout(options, flags.dropout);
}
