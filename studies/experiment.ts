/**
 * What an experiment is: named sub-runs (each a job with its own directory, e.g. one training
 * run) repeated for every seed, and a report built from their metrics. The runner
 * ({@linkcode runExperiment} in `runner.ts`) owns directories, completion markers, resume, seeds
 * and the report files; an experiment only says which jobs to run and what to conclude.
 *
 * @module
 */
import type { Progress, StopRequest } from "../core/job/mod.ts";
import type { NamedChart, RunMetrics, RunSummary } from "../core/report/mod.ts";
import type { Backend } from "../core/runtime/mod.ts";

/** Experiment sizes: `tiny` runs in the tests on the fixtures, `small` is a CPU study of about an
 * hour per study on 2 cores (3 seeds), `paper` has the paper's sizes (a GPU machine). */
export type Scale = "tiny" | "small" | "paper";

/** The scales `--scale` accepts. */
export const SCALES: readonly Scale[] = ["tiny", "small", "paper"];

/** What every job gets besides its directory. */
export interface JobContext {
  /** The sub-run's seed. */
  seed: number;
  /** Whether an earlier attempt left this directory behind (failed or interrupted): continue it. */
  retry: boolean;
  /** The directory of another sub-run of the same seed (for jobs that read earlier outputs). */
  dirOf(name: string): string;
  env: ExperimentEnv;
}

/** One job of an experiment. */
export interface SubRun {
  /** Unique within the experiment, `[a-z0-9.-]+`; its directory is `OUT/runs/NAME/seed-N`. */
  name: string;
  /** What it is, for the report. */
  title: string;
  /** Sub-runs (of the same seed) that must have finished first; a failed one blocks this one. */
  after?: string[];
  /**
   * Runs the job to completion in `dir`, appending its metrics to `dir/metrics.jsonl`. On
   * `ctx.retry` it continues where the earlier attempt stopped (a trainer resumes from its last
   * checkpoint). Throws on failure, and `Interrupted` (core/files) when asked to stop.
   */
  run(dir: string, ctx: JobContext): Promise<void>;
}

/** Where a sub-run stands after this invocation. */
export type SubRunStatus = "done" | "failed" | "interrupted" | "blocked" | "not run";

/** One sub-run of one seed, with what it logged. */
export interface SubRunResult {
  name: string;
  title: string;
  seed: number;
  dir: string;
  status: SubRunStatus;
  /** Whether it ran (or continued) in this invocation; false when an earlier one finished it. */
  ranNow: boolean;
  /** Seconds of work over all attempts (from the completion marker), when done. */
  seconds: number | null;
  /** Why it failed or was interrupted. */
  error: string | null;
  /** Its metrics (empty when it never started) and their summary. */
  metrics: RunMetrics;
  summary: RunSummary;
}

/** A section of `report.md`. */
export interface Section {
  title: string;
  /** Markdown. */
  body: string;
}

/** What an experiment concludes from its sub-runs. */
export interface ReportParts {
  sections: Section[];
  /** Rendered to `NAME.svg` and `NAME.png` beside report.md and shown under "Plots". */
  charts: NamedChart[];
  /** Experiment-specific results for `report.json`. */
  json: unknown;
}

/** An experiment over parameters `P` (scale preset + overrides, resolved by the command). */
export interface Experiment<P> {
  /** `moe experiment NAME`. */
  name: string;
  /** Report title. */
  title: string;
  /** The sub-runs of one seed, in the order they run. */
  subRuns(params: P, seed: number): SubRun[];
  /** Markdown lines describing the setup (model, budget, data) for the report's first section. */
  setup(params: P): string;
  /** Tables, findings and charts from all seeds' results (`results[i]` = sub-runs of seed i). */
  report(params: P, results: SubRunResult[][]): ReportParts;
}

/** Run-time resources shared by every job (not part of the experiment's parameters). */
export interface ExperimentEnv {
  /** Runs every job (named in the report: results reproduce on the same backend only). */
  backend: Backend;
  progress?: Progress;
  /** Set `requested` (SIGINT, SIGTERM) to checkpoint the running job and stop after it. */
  stop?: StopRequest;
  /** Told one line when a job repairs its directory (a broken `latest`, half-written files). */
  notice?: (line: string) => void;
  /** Tests: stop the named sub-run (`NAME/seed-N`) after this step without a checkpoint, as a
   * crash would. */
  haltAfter?: Record<string, number>;
  /** The command line that ran the experiment, quoted in the report. */
  command?: string;
  /**
   * How the sub-runs ran, for the report: `parallel` at a time, each in its own process on
   * `threads` threads (absent: one after another in the experiment's process).
   */
  jobs?: { parallel: number; threads: number };
}
