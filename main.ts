/**
 * `moe`: build modular multilingual language models. This file only assembles the command tree.
 *
 * @module
 */
import { Command } from "commander";
import { runProgram } from "./commands/_run.ts";
import { balanceCommand } from "./commands/balance.ts";
import { demoCommand } from "./commands/demo.ts";
import { tokenizerCommand } from "./commands/tokenizer.ts";
import { routerCommand } from "./commands/router.ts";
import { trainCommand } from "./commands/train.ts";
import { distillCommand } from "./commands/distill.ts";
import { exportCommand } from "./commands/export.ts";
import { reportCommand } from "./commands/report.ts";
import { experimentCommand } from "./commands/experiment.ts";
import { generateCommand } from "./commands/generate.ts";
import { assembleCommand } from "./commands/assemble.ts";
import { trainMoECommand } from "./commands/train_moe.ts";
import { evalCommand } from "./commands/eval.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The whole command tree. */
export function moeProgram(): Command {
  return new Command("moe")
    .description(
      "Build modular multilingual language models: balance → tokenizer → router → teacher → experts → MoE",
    )
    .version(denoJson.version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions() // `moe distill cache --teacher …`: options go to the subcommand
    .addCommand(balanceCommand())
    .addCommand(demoCommand())
    .addCommand(tokenizerCommand())
    .addCommand(routerCommand())
    .addCommand(trainCommand())
    .addCommand(distillCommand())
    .addCommand(exportCommand())
    .addCommand(reportCommand())
    .addCommand(experimentCommand())
    .addCommand(assembleCommand())
    .addCommand(trainMoECommand())
    .addCommand(evalCommand())
    .addCommand(generateCommand());
}

if (import.meta.main) await runProgram(moeProgram(), Deno.args);
