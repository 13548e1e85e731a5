/**
 * `moe experiment NAME`: the paper's experiments as commands (issue #9). Each runs its sub-runs in
 * this process, skips the ones an earlier invocation finished, continues failed or interrupted
 * ones, and writes `report.md`, `report.json` and plots into `--out`.
 *
 * @module
 */
import { Command, Option } from "commander";
import { join } from "node:path";
import { assertReplaceable, UsageError } from "../core/cli/mod.ts";
import {
  type Experiment,
  type ExperimentOutcome,
  forgettingExperiment,
  forgettingParams,
  runExperiment,
  type Scale,
  SCALES,
} from "../core/experiments/mod.ts";
import { BACKEND_HELP, openBackend, runtimeConfig, THREADS_HELP } from "../core/runtime/mod.ts";
import { withStopOnSignals } from "./_training.ts";
import { alphaCommand, lossScheduleCommand } from "./experiment_distill.ts";
import { moeVariantsCommand } from "./experiment_moe.ts";
import { action, type GlobalOptions, numberIn, printJson, standardCommand } from "./_run.ts";

/** Flags every experiment has. */
export interface ExperimentFlags extends GlobalOptions {
  scale: Scale;
  seeds: number;
  seed: number;
  out: string;
  backend?: string;
  threads?: string;
  force?: boolean;
  // The input flags some experiments declare: `--force` never deletes a folder holding one.
  data?: string;
  teacher?: string;
  router?: string;
  tokenizer?: string;
}

const int = (min: number, max: number) => numberIn(min, max, true);

/** The `experiment` command and its subcommands. */
export function experimentCommand(): Command {
  return new Command("experiment")
    .description("Run the paper's experiments and write reports with plots")
    .addHelpText(
      "after",
      `
Examples:
  moe experiment forgetting --data .demo/tokens --out experiments/forgetting-tiny
  moe experiment forgetting --data data/tokens --scale small --seeds 3 --out docs/results/forgetting`,
    )
    .addCommand(forgettingCommand())
    .addCommand(alphaCommand())
    .addCommand(lossScheduleCommand())
    .addCommand(moeVariantsCommand());
}

/** A subcommand with the flags every experiment shares. */
export function experimentSubcommand(name: string, description: string): Command {
  return standardCommand(name, description)
    .addOption(
      new Option("--scale <SIZE>", "tiny: seconds on fixtures; small: ≤ 1 h CPU; paper: GPU")
        .choices(SCALES).default("tiny"),
    )
    .option("--seeds <N>", "repetitions with seeds seed … seed+N−1 (mean ± std)", int(1, 1000), 1)
    .option("--seed <N>", "first seed", int(0, 2 ** 32 - 1000), 1)
    .requiredOption("-o, --out <DIR>", "experiment directory: report.md, report.json, plots, runs/")
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .option("--force", "delete an earlier experiment in --out and start afresh");
}

/** The batch and model flags every experiment takes to override its scale. */
export interface ScaleFlags {
  batch?: number;
  seqLen?: number;
  lr?: number;
  layers?: number;
  dModel?: number;
  heads?: number;
  ctx?: number;
  evalRows?: number;
}

/**
 * Adds the {@linkcode ScaleFlags} options.
 *
 * @param cmd The experiment's subcommand.
 * @param whose Whose model they shape, for the help (e.g. "students' ").
 */
export function addScaleOptions(cmd: Command, whose = ""): Command {
  const over = "(overrides the scale)";
  return cmd
    .option("--batch <N>", `rows per batch ${over}`, int(1, 65536))
    .option("--seq-len <N>", `tokens per row ${over}`, int(1, 65536))
    .option("--lr <X>", `${whose}peak learning rate ${over}`, numberIn(0, 10))
    .option("--layers <N>", `${whose}transformer blocks ${over}`, int(1, 256))
    .option("--d-model <N>", `${whose}residual width ${over}`, int(1, 65536))
    .option("--heads <N>", `${whose}attention heads ${over}`, int(1, 1024))
    .option("--ctx <N>", `${whose}context length ${over}`, int(2, 65536))
    .option("--eval-rows <N>", `validation rows per class ${over}`, int(1, 1e9));
}

/** The model part of {@linkcode ScaleFlags}, named as the parameter resolvers take it. */
export function modelOverrides(f: ScaleFlags): {
  layers: number | undefined;
  dModel: number | undefined;
  heads: number | undefined;
  contextLength: number | undefined;
} {
  return { layers: f.layers, dModel: f.dModel, heads: f.heads, contextLength: f.ctx };
}

interface ForgettingFlags extends ExperimentFlags, ScaleFlags {
  data: string;
  order?: string;
  tokenizer?: string;
  steps?: number;
  evalsPerPhase?: number;
}

function forgettingCommand(): Command {
  const cmd = experimentSubcommand(
    "forgetting",
    "Sequential vs balanced training (vs MoE): per-class validation after every phase, forgetting",
  )
    .requiredOption("--data <DIR>", "token shard directory (moe tokenizer encode)")
    .option("--order <A,B,…>", "class order of the sequential phases (default: the shards')")
    .option("--tokenizer <FILE>", "tokenizer.json of the shards (default: the manifest's)")
    .option("--steps <N>", "optimizer steps per regime (overrides the scale)", int(1, 1e9))
    .option("--evals-per-phase <N>", "evaluations per phase (overrides the scale)", int(1, 1000));
  return addScaleOptions(cmd)
    .addHelpText(
      "after",
      `
Regimes: (a) sequential, one class after another; (b) one session with balanced batches; (c) the
MoE of per-class experts (oracle routing). Same model and token budget for all.
Re-running the same command skips finished sub-runs and resumes failed or interrupted ones.

Examples:
  moe experiment forgetting --data .demo/tokens --out experiments/forgetting-tiny
  moe experiment forgetting --data data/tokens --scale small --seeds 3 --out docs/results/forgetting
  moe experiment forgetting --data data/tokens --order py,de,fr,en --steps 800 --out runs/forgetting-rev`,
    )
    .action(action(async (flags: ForgettingFlags) => {
      const params = await forgettingParams(flags.scale, flags.data, {
        order: flags.order?.split(",").map((s) => s.trim()),
        tokenizer: flags.tokenizer,
        steps: flags.steps,
        batch: flags.batch,
        seqLen: flags.seqLen,
        lr: flags.lr,
        ...modelOverrides(flags),
        evalsPerPhase: flags.evalsPerPhase,
        evalRows: flags.evalRows,
      });
      const outcome = await run(forgettingExperiment, params, flags);
      const summary = (outcome.report as {
        summary: Record<string, { meanForgetting: { mean: number; std: number; n: number } }>;
      }).summary;
      if (flags.json) return printJson({ out: flags.out, ...overview(outcome), summary });
      printOverview(flags, outcome);
      for (const [regime, s] of Object.entries(summary)) {
        const m = s.meanForgetting;
        const std = m.n > 1 ? ` ± ${m.std.toFixed(3)}` : "";
        console.log(
          `  ${regime}: mean forgetting ${m.mean >= 0 ? "+" : ""}${
            m.mean.toFixed(3)
          }${std} nats/token`,
        );
      }
    }));
}

/** Opens the backend, handles --force and SIGINT, and runs the experiment. */
export async function run<P>(
  exp: Experiment<P>,
  params: P,
  flags: ExperimentFlags,
): Promise<ExperimentOutcome> {
  if (flags.force) {
    await clearExperiment(flags.out, [flags.data, flags.teacher, flags.router, flags.tokenizer]);
  }
  const runtime = runtimeConfig(flags);
  const { backend } = await openBackend(runtime.backend, { threads: runtime.threads });
  const notice = (line: string) => console.error(`moe: ${line}`);
  return await withStopOnSignals(flags, (stop, progress) =>
    runExperiment(exp, params, {
      out: flags.out,
      seeds: Array.from({ length: flags.seeds }, (_, i) => flags.seed + i),
      env: { backend, progress, stop, notice, command: `moe ${Deno.args.join(" ")}` },
      onStaleLock: (line) => notice(`warning: ${line}`),
    }));
}

/**
 * Removes an earlier experiment directory; refuses, touching nothing, a directory that is not one
 * (the rule of `assertReplaceable`: a non-empty folder `moe` did not write, the current folder,
 * one holding an input…).
 */
async function clearExperiment(out: string, inputs: (string | undefined)[]): Promise<void> {
  await assertReplaceable(out, { kind: "dir", inputs });
  const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
  if (entries.length === 0) return;
  if (!entries.some((e) => e.name === "experiment.json")) {
    throw new UsageError(
      `Cannot --force "${out}": it is not an experiment directory (no experiment.json), so it is left alone`,
    );
  }
  await Deno.remove(out, { recursive: true });
}

/** The sub-runs and files of an outcome, for `--json`. */
export function overview(o: ExperimentOutcome) {
  const flat = o.results.flat();
  return {
    subRuns: flat.map((r) => ({ name: r.name, seed: r.seed, status: r.status, ranNow: r.ranNow })),
    files: o.files,
  };
}

/** One line: how many sub-runs are done and where the report is. */
export function printOverview(flags: ExperimentFlags, o: ExperimentOutcome): void {
  const flat = o.results.flat();
  const now = flat.filter((r) => r.ranNow).length;
  console.log(
    `${flat.length} sub-runs done (${now} in this run, ${flat.length - now} earlier); ` +
      `report ${join(flags.out, "report.md")}`,
  );
}
