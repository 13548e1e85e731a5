/**
 * Running an experiment: every sub-run of every seed in order, each in its own directory; a
 * finished sub-run (completion marker) is never recomputed, a failed or interrupted one is
 * reported as such and continued on the next invocation; then the report is written. The
 * experiment directory is locked for the whole invocation, and each sub-run's directory while
 * it runs (so a `moe train --resume` of a sub-run cannot write it meanwhile).
 *
 * @module
 */
import { join } from "node:path";
import { Interrupted, UsageError, writeFileAtomic } from "../cli/mod.ts";
import { lockRun } from "../training/mod.ts";
import { parseMetrics, readMetrics, type RunMetrics, summarizeRun } from "../report/mod.ts";
import type { Experiment, ExperimentEnv, SubRun, SubRunResult } from "./experiment.ts";
import { writeExperimentReport } from "./experiment_report.ts";
import { isDone, readAttempts, recordAttempt, subRunDir, wasStarted } from "./sub_run_dir.ts";

/** Where and how often to run. */
export interface RunOptions {
  /** Experiment directory: experiment.json, report.md, report.json, plots, runs/NAME/seed-N/. */
  out: string;
  /** One repetition per seed. */
  seeds: number[];
  env: ExperimentEnv;
  /** Told one line when a stale lock (of a process that is gone) is taken over. */
  onStaleLock?: (line: string) => void;
}

/** What an invocation did. */
export interface ExperimentOutcome {
  /** `results[i]`: the sub-runs of `seeds[i]`. */
  results: SubRunResult[][];
  /** Files written in `out` (report and plots). */
  files: string[];
  /** The experiment's own results (as in report.json). */
  report: unknown;
  /** Sub-runs that are not done after this invocation. */
  unfinished: SubRunResult[];
}

/**
 * Runs (or continues) an experiment and writes its report, even when sub-runs fail.
 *
 * @param exp The experiment.
 * @param params Its resolved parameters (saved in `experiment.json`; a directory that holds other
 *   parameters is refused, so a resumed sub-run always continues the same job).
 * @param o Output directory, seeds, backend and hooks.
 * @returns The results and the files written.
 * @throws {UsageError} If `out` holds another experiment or other parameters.
 * @throws {RunLocked} If another process runs this experiment, or writes one of its sub-runs.
 * @throws {Interrupted} After writing the report, when a job was interrupted (with its signal).
 * @throws {Error} After writing the report, when sub-runs failed; the message names them.
 */
export async function runExperiment<P>(
  exp: Experiment<P>,
  params: P,
  o: RunOptions,
): Promise<ExperimentOutcome> {
  const lock = await lockRun(o.out, o.onStaleLock);
  try {
    return await runLocked(exp, params, o);
  } finally {
    lock.release();
  }
}

async function runLocked<P>(
  exp: Experiment<P>,
  params: P,
  o: RunOptions,
): Promise<ExperimentOutcome> {
  await claim(o.out, exp.name, params);
  let interrupted: Interrupted | null = null;
  const results: SubRunResult[][] = [];
  for (const seed of o.seeds) {
    const row: SubRunResult[] = [];
    for (const sub of exp.subRuns(params, seed)) {
      const dir = subRunDir(o.out, sub.name, seed);
      const blocked = (sub.after ?? []).some((a) =>
        row.find((r) => r.name === a)?.status !== "done"
      );
      if (interrupted || blocked) {
        row.push(await result(sub, seed, dir, interrupted ? "not run" : "blocked", false, null));
        continue;
      }
      const outcome = await runOne(sub, seed, dir, o);
      if (outcome.status === "interrupted") {
        interrupted = new Interrupted(outcome.error!, o.env.stop?.signal ?? "SIGINT");
      }
      row.push(outcome);
    }
    results.push(row);
  }
  const { files, results: report } = await writeExperimentReport(exp, params, results, o);
  const unfinished = results.flat().filter((r) => r.status !== "done");
  if (interrupted) {
    throw new Interrupted(
      `${interrupted.message}; report written to "${
        join(o.out, "report.md")
      }" (run the same command again to continue)`,
      interrupted.signal,
    );
  }
  const failed = unfinished.filter((r) => r.status === "failed");
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} sub-run(s) failed (${
        failed.map((r) => `${r.name}/seed-${r.seed}: ${r.error}`).join("; ")
      }); report written to "${
        join(o.out, "report.md")
      }", run the same command again to resume them`,
    );
  }
  return { results, files, report, unfinished };
}

/** Runs one sub-run unless its marker says it is done. */
async function runOne(
  sub: SubRun,
  seed: number,
  dir: string,
  o: RunOptions,
): Promise<SubRunResult> {
  if (await isDone(dir)) return await result(sub, seed, dir, "done", false, null);
  const retry = await wasStarted(dir);
  const lock = await lockRun(dir, o.onStaleLock);
  try {
    return await runLockedSubRun(sub, seed, dir, o, retry);
  } finally {
    lock.release();
  }
}

async function runLockedSubRun(
  sub: SubRun,
  seed: number,
  dir: string,
  o: RunOptions,
  retry: boolean,
): Promise<SubRunResult> {
  const started = performance.now();
  let status: "done" | "failed" | "interrupted" = "done";
  let error: string | null = null;
  try {
    await sub.run(dir, {
      seed,
      retry,
      dirOf: (name) => subRunDir(o.out, name, seed),
      env: o.env,
    });
  } catch (e) {
    status = e instanceof Interrupted ? "interrupted" : "failed";
    error = e instanceof Error ? e.message : String(e);
  }
  const metrics = await loadMetrics(dir);
  await recordAttempt(dir, {
    status,
    seconds: (performance.now() - started) / 1000,
    step: metrics.train.at(-1)?.step ?? 0,
    ...(error !== null ? { error } : {}),
  });
  return await result(sub, seed, dir, status, true, error, metrics);
}

async function result(
  sub: SubRun,
  seed: number,
  dir: string,
  status: SubRunResult["status"],
  ranNow: boolean,
  error: string | null,
  metrics?: RunMetrics,
): Promise<SubRunResult> {
  const m = metrics ?? await loadMetrics(dir);
  let seconds: number | null = null;
  if (status === "done") {
    const marker = JSON.parse(await Deno.readTextFile(join(dir, "done.json"))) as {
      seconds: number;
    };
    seconds = marker.seconds;
  } else if (error === null && status !== "not run") {
    error = (await readAttempts(dir)).at(-1)?.error ?? null;
  }
  return {
    name: sub.name,
    title: sub.title,
    seed,
    dir,
    status,
    ranNow,
    seconds,
    error,
    metrics: m,
    summary: summarizeRun(m),
  };
}

/** The metrics a sub-run logged so far (none if it never started). */
async function loadMetrics(dir: string): Promise<RunMetrics> {
  const path = join(dir, "metrics.jsonl");
  if (!(await Deno.stat(path).then(() => true, () => false))) return parseMetrics("");
  return await readMetrics(path);
}

/** Records the experiment and its parameters in `out`, or checks they match what is there. */
async function claim(out: string, name: string, params: unknown): Promise<void> {
  const path = join(out, "experiment.json");
  const identity = canonical({ experiment: name, params });
  const existing = await Deno.readTextFile(path).catch(() => null);
  if (existing === null) {
    await Deno.mkdir(out, { recursive: true });
    await writeFileAtomic(path, JSON.stringify(JSON.parse(identity), null, 2) + "\n");
    return;
  }
  if (canonical(JSON.parse(existing)) !== identity) {
    throw new UsageError(
      `Cannot run experiment "${name}" in "${out}": it holds ${
        describe(JSON.parse(existing), name)
      } (use another --out, or --force to start afresh)`,
    );
  }
}

function describe(saved: { experiment?: string }, name: string): string {
  return saved.experiment === name
    ? `a "${name}" experiment with other parameters`
    : `a "${saved.experiment}" experiment`;
}

/**
 * JSON with object keys sorted, so equal values compare equal as text.
 *
 * @example
 * ```ts
 * import { canonical } from "./runner.ts";
 * console.assert(canonical({ b: 1, a: [2, { d: 3, c: 4 }] }) === canonical({ a: [2, { c: 4, d: 3 }], b: 1 }));
 * ```
 */
export function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
}
