/**
 * What every `moe experiment` subcommand shares: its flags (scale, seeds, output, backend, jobs),
 * the scale overrides, and running the experiment from them (`--force`, SIGINT, sub-run
 * processes) — imported by `experiment.ts` and by the subcommands in their own files.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { join } from "node:path";
import { UsageError } from "./_errors.ts";
import { assertReplaceable } from "../core/files/mod.ts";
import {
  type Experiment,
  type ExperimentOutcome,
  runExperiment,
  type Scale,
  SCALES,
  type SubRunLauncher,
} from "../studies/mod.ts";
import {
  defaultRuntimeConfig,
  defaultThreads,
  openBackend,
  runtimeConfig,
} from "../core/runtime/mod.ts";
import { selfCommand } from "./_self.ts";
import { assertRunUnlocked } from "../pipeline/training/mod.ts";
import { withStopOnSignals } from "./_training.ts";
import { BACKEND_HELP, type GlobalOptions, standardCommand } from "./_run.ts";
import { integerIn, numberIn } from "./_option_values.ts";

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
      integerIn(1, 1000),
      DEFAULT_SEEDS,
    )
    .option("--seed <N>", "first seed", integerIn(0, 2 ** 32 - 1000), 1)
    .requiredOption("-o, --out <DIR>", "experiment directory: report.md, report.json, plots, runs/")
    .option("--backend <NAME>", BACKEND_HELP)
    .option(
      "--threads <N>",
      "threads of each sub-run's process (default 1: the same seed gives the same numbers)",
    )
    .option(
      "--jobs <N>",
      `sub-runs side by side, each in its own process (default: the cores, ${defaultThreads()})`,
      integerIn(1, 256),
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
    .option("--batch <N>", `rows per batch ${over}`, integerIn(1, 65536))
    .option("--seq-len <N>", `tokens per row ${over}`, integerIn(1, 65536))
    .option("--lr <X>", `${whose}peak learning rate ${over}`, numberIn(0, 10))
    .option("--layers <N>", `${whose}transformer blocks ${over}`, integerIn(1, 256))
    .option("--d-model <N>", `${whose}residual width ${over}`, integerIn(1, 65536))
    .option("--heads <N>", `${whose}attention heads ${over}`, integerIn(1, 1024))
    .option("--ctx <N>", `${whose}context length ${over}`, integerIn(2, 65536))
    .option("--eval-rows <N>", `validation rows per class ${over}`, integerIn(1, 1e9));
}

/**
 * The model part of {@linkcode ScaleFlags}, named as the parameter resolvers take it.
 *
 * @example
 * ```ts
 * import { modelOverrides } from "./_experiment_common.ts";
 * console.assert(modelOverrides({ layers: 2, ctx: 64 }).contextLength === 64);
 * ```
 */
export function modelOverrides(f: ScaleFlags): {
  layers: number | undefined;
  dModel: number | undefined;
  heads: number | undefined;
  contextLength: number | undefined;
} {
  return { layers: f.layers, dModel: f.dModel, heads: f.heads, contextLength: f.ctx };
}

/** Opens the backend, handles --force and SIGINT, and runs the experiment. */
export async function runWithFlags<P>(
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
