/**
 * `moe experiment NAME`: the paper's experiments as commands (issue #9). Each runs its sub-runs
 * side by side (`--jobs`), every one in its own process on `--threads` threads (default 1, so
 * that the same seed reproduces the same numbers bit for bit), skips the ones an earlier
 * invocation finished, continues failed or interrupted ones, and writes `report.md`,
 * `report.json` and plots into `--out`. `moe experiment sub-run` (hidden) is the child side.
 *
 * @module
 */
import { Command } from "commander";
import { join } from "node:path";
import {
  forgettingExperiment,
  forgettingParams,
  readExperiment,
  rewriteReport,
  runSubRunHere,
} from "../studies/mod.ts";
import { defaultRuntimeConfig, openBackend, runtimeConfig } from "../core/runtime/mod.ts";
import { withStopOnSignals } from "./_training.ts";
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
import { alphaCommand, lossScheduleCommand } from "./experiment_distill.ts";
import { moeVariantsCommand } from "./experiment_moe.ts";
import { action, BACKEND_HELP, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { integerIn } from "./_option_values.ts";

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
    .option("--steps <N>", "optimizer steps per regime (overrides the scale)", integerIn(1, 1e9))
    .option(
      "--evals-per-phase <N>",
      "evaluations per phase (overrides the scale)",
      integerIn(1, 1000),
    );
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
      const outcome = await runWithFlags(forgettingExperiment, params, flags);
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
    .requiredOption("--seed <N>", "its seed", integerIn(0, 2 ** 32 - 1))
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
