/**
 * `moe experiment NAME`: the paper's experiments as commands (issue #9). Each runs its sub-runs
 * side by side (`--jobs`), every one in its own process on `--threads` threads (default 1, so
 * that the same seed reproduces the same numbers bit for bit), skips the ones an earlier
 * invocation finished, continues failed or interrupted ones, and writes `report.md`,
 * `report.json` and plots into `--out`. `moe experiment sub-run` (hidden) is the child side.
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
  readExperiment,
  rewriteReport,
  runExperiment,
  runSubRunHere,
  type Scale,
  SCALES,
  type SubRunLauncher,
} from "../core/experiments/mod.ts";
import {
  BACKEND_HELP,
  defaultRuntimeConfig,
  defaultThreads,
  openBackend,
  runtimeConfig,
} from "../core/runtime/mod.ts";
import { selfCommand } from "./_self.ts";
import { assertRunUnlocked } from "../core/training/mod.ts";
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
  jobs?: number;
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
    .addCommand(moeVariantsCommand())
    .addCommand(reportCommand())
    .addCommand(subRunCommand(), { hidden: true });
}

/** Default seeds of every study: enough for a t interval with 2 degrees of freedom. */
export const DEFAULT_SEEDS = 3;

/** A subcommand with the flags every experiment shares. */
export function experimentSubcommand(name: string, description: string): Command {
  return standardCommand(name, description)
    .addOption(
      new Option("--scale <SIZE>", "tiny: seconds on fixtures; small: ≤ 1 h CPU; paper: GPU")
        .choices(SCALES).default("tiny"),
    )
    .option(
      "--seeds <N>",
      "repetitions with seeds seed … seed+N−1 (mean, paired 95 % t intervals)",
      int(1, 1000),
      DEFAULT_SEEDS,
    )
    .option("--seed <N>", "first seed", int(0, 2 ** 32 - 1000), 1)
    .requiredOption("-o, --out <DIR>", "experiment directory: report.md, report.json, plots, runs/")
    .option("--backend <NAME>", BACKEND_HELP)
    .option(
      "--threads <N>",
      "threads of each sub-run's process (default 1: the same seed gives the same numbers)",
    )
    .option(
      "--jobs <N>",
      `sub-runs side by side, each in its own process (default: the cores, ${defaultThreads()})`,
      int(1, 256),
    )
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
  // One thread per sub-run unless asked otherwise: bit-reproducible sub-runs (see the module doc).
  const runtime = runtimeConfig(flags, { ...defaultRuntimeConfig(), threads: 1 });
  const { backend } = await openBackend(runtime.backend, { threads: runtime.threads });
  const notice = (line: string) => console.error(`moe: ${line}`);
  const jobs = flags.jobs ?? defaultThreads();
  const launcher: SubRunLauncher = {
    command: (ref) =>
      selfCommand([
        ...["experiment", "sub-run", "--out", ref.out, "--name", ref.name],
        ...["--seed", String(ref.seed), "--backend", backend.name],
        ...["--threads", String(runtime.threads), ...(ref.retry ? ["--retry"] : [])],
      ]),
  };
  return await withStopOnSignals(flags, (stop, progress) =>
    runExperiment(exp, params, {
      out: flags.out,
      seeds: Array.from({ length: flags.seeds }, (_, i) => flags.seed + i),
      env: {
        backend,
        progress,
        stop,
        notice,
        command: `moe ${Deno.args.join(" ")}`,
        jobs: { parallel: jobs, threads: runtime.threads },
      },
      jobs,
      launcher,
      onStaleLock: (line) => notice(`warning: ${line}`),
    }));
}

/** `moe experiment report`: the report written again from the sub-runs on disk. */
function reportCommand(): Command {
  return standardCommand(
    "report",
    "Write an experiment's report again from its finished sub-runs (runs nothing)",
  )
    .requiredOption("-o, --out <DIR>", "the experiment directory (holds experiment.json)")
    .addHelpText(
      "after",
      `
Rebuilds report.md, report.json and the plots from experiment.json and runs/*/seed-N — e.g. after
the report's format changed. Seeds, backend and command line are kept from the old report.json.

Examples:
  moe experiment report --out docs/results/alpha`,
    )
    .action(action(async (flags: GlobalOptions & { out: string }) => {
      const r = await rewriteReport(flags.out, (line) => console.error(`moe: warning: ${line}`));
      const done = r.results.flat().filter((x) => x.status === "done").length;
      if (flags.json) {
        return printJson({ out: flags.out, experiment: r.experiment, files: r.files });
      }
      console.log(
        `${r.experiment}: report of ${done} finished sub-runs (seeds ${
          r.seeds.join(", ")
        }) written to ${join(flags.out, "report.md")}`,
      );
    }));
}

interface SubRunFlags extends GlobalOptions {
  out: string;
  name: string;
  seed: number;
  retry?: boolean;
  backend?: string;
  threads?: string;
}

/**
 * `moe experiment sub-run` (hidden): runs one sub-run of the experiment in `--out` — the child
 * process an experiment starts for each sub-run. Its lines on stderr are the parent's notices.
 */
function subRunCommand(): Command {
  return standardCommand("sub-run", "Run one sub-run of an experiment (started by the experiment)")
    .requiredOption("--out <DIR>", "the experiment directory (holds experiment.json)")
    .requiredOption("--name <NAME>", "the sub-run")
    .requiredOption("--seed <N>", "its seed", int(0, 2 ** 32 - 1))
    .option("--retry", "continue what an earlier attempt left")
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", "host threads")
    .addHelpText(
      "after",
      `
An experiment starts one such process per sub-run (each on --threads threads, 1 by default).

Examples:
  moe experiment sub-run --out study/alpha --name alpha-0.5 --seed 1 --retry --threads 1`,
    )
    .action(action(async (flags: SubRunFlags) => {
      const runtime = runtimeConfig(flags, { ...defaultRuntimeConfig(), threads: 1 });
      const { experiment, params } = await readExperiment(flags.out);
      const { backend } = await openBackend(runtime.backend, { threads: runtime.threads });
      const notice = (line: string) => console.error(`moe: ${line}`);
      await withStopOnSignals(
        { ...flags, json: true },
        (stop) =>
          runSubRunHere(
            experiment,
            params,
            {
              out: flags.out,
              name: flags.name,
              seed: flags.seed,
              retry: flags.retry ?? false,
            },
            { backend, stop, notice },
            (line) => notice(`warning: ${line}`),
          ),
      );
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
  await assertRunUnlocked(out); // a running experiment is never deleted under its process
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
