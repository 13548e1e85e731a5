/**
 * `moe`: build modular multilingual language models. This file only assembles the command tree.
 *
 * @module
 */
import { Command } from "commander";
import { runProgram } from "./commands/_run.ts";
import { runtimeConfig } from "./core/runtime/mod.ts";
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
import { importCommand } from "./commands/import.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The whole command tree. */
export function moeProgram(): Command {
  return new Command("moe")
    .description(
      "Build modular multilingual language models: balance → tokenizer → router → teacher → experts → MoE",
    )
    .version(denoJson.version, "-V, --version")
    .enablePositionalOptions() // `moe distill cache --teacher …`: options go to the subcommand
    .hook("preAction", (_program, command) => checkRuntimeFlags(command))
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
    .addCommand(importCommand())
    .addCommand(generateCommand())
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 failure (bad data, I/O), 2 bad usage, 130 SIGINT (Ctrl-C), 143 SIGTERM.

Examples:
  moe demo
  moe balance --input en=fixtures/corpus/en.jsonl.gz --input py=fixtures/corpus/py.jsonl.gz --out data/balanced
  moe tokenizer train data/balanced --vocab-size 32000 --out tok.json
  moe help train`,
    );
}

/**
 * Checks `--backend` and `--threads` as given on the command line before any command starts work
 * (the training commands would otherwise read their shards first); a bad value is a usage error.
 */
function checkRuntimeFlags(command: Command): void {
  const given = (name: string): string | undefined =>
    command.getOptionValueSource(name) === "cli" ? String(command.getOptionValue(name)) : undefined;
  runtimeConfig({ backend: given("backend"), threads: given("threads") });
}

if (import.meta.main) await runProgram(moeProgram(), Deno.args);
