/**
 * Running an experiment: every sub-run of every seed, each in its own directory, up to `jobs` at
 * a time (a sub-run starts once the sub-runs it waits for are done); a finished sub-run
 * (completion marker) is never recomputed, a failed or interrupted one is reported as such and
 * continued on the next invocation; then the report is written. The experiment directory is
 * locked for the whole invocation, and each sub-run's directory while it runs (so a
 * `moe train --resume` of a sub-run cannot write it meanwhile).
 *
 * With a {@linkcode SubRunLauncher} every sub-run runs in its own process (`sub_run_process.ts`),
 * so sub-runs side by side never share a thread pool and each reproduces bit for bit.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/files/mod.ts";
import { Interrupted, InvalidRequest } from "../core/job/mod.ts";
import { lockRun } from "../pipeline/training/mod.ts";
import { parseMetrics, readMetrics, type RunMetrics, summarizeRun } from "../core/report/mod.ts";
import type { Experiment, ExperimentEnv, SubRun, SubRunResult } from "./experiment.ts";
import { writeExperimentReport } from "./experiment_report.ts";
import { isDone, readAttempts, recordAttempt, subRunDir, wasStarted } from "./sub_run_dir.ts";
import { runInChild, type SubRunLauncher } from "./sub_run_process.ts";

/** Where and how often to run. */
export interface RunOptions {
  /** Experiment directory: experiment.json, report.md, report.json, plots, runs/NAME/seed-N/. */
  out: string;
  /** One repetition per seed. */
  seeds: number[];
  env: ExperimentEnv;
  /** Told one line when a stale lock (of a process that is gone) is taken over. */
  onStaleLock?: (line: string) => void;
  /** Sub-runs at a time (default 1). */
  jobs?: number;
  /** Run every sub-run in a child process started with this (default: in this process). */
  launcher?: SubRunLauncher;
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
 * @param o Output directory, seeds, backend, parallel jobs and hooks.
 * @returns The results and the files written.
 * @throws {InvalidRequest} If `out` holds another experiment or other parameters (option `out`).
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

/** One sub-run of one seed, in the plan: seed index `i`, sub-run index `j`. */
interface Task {
  i: number;
  j: number;
  seed: number;
  sub: SubRun;
}

async function runLocked<P>(
  exp: Experiment<P>,
  params: P,
  o: RunOptions,
): Promise<ExperimentOutcome> {
  await claim(o.out, exp.name, params);
  const plan = o.seeds.map((seed) => exp.subRuns(params, seed));
  const slots: (SubRunResult | undefined)[][] = plan.map((subs) => subs.map(() => undefined));
  const tasks: Task[] = plan.flatMap((subs, i) =>
    subs.map((sub, j) => ({ i, j, seed: o.seeds[i]!, sub }))
  );
  const statusOf = (i: number, name: string) =>
    slots[i]![plan[i]!.findIndex((s) => s.name === name)]?.status;
  const jobs = Math.max(1, o.jobs ?? 1);
  const waiting = new Set(tasks);
  const running = new Set<Promise<void>>();
  // Set by the first job that was interrupted: nothing else starts after it. Its message is the
  // experiment's last line, so one that trained (and checkpointed) replaces one that had not yet
  // started when the signal came: sub-runs side by side stop in any order.
  const stop: { interrupted: Interrupted | null; trained: boolean } = {
    interrupted: null,
    trained: false,
  };
  const progress = o.launcher ? o.env.progress : undefined; // in-process jobs draw their own
  let finished = 0;
  progress?.start(tasks.length, "sub-runs");
  const settle = async (t: Task, status: "blocked" | "not run") => {
    waiting.delete(t);
    slots[t.i]![t.j] = await result(t.sub, t.seed, dir(t), status, false, null);
  };
  const dir = (t: Task) => subRunDir(o.out, t.sub.name, t.seed);
  while (waiting.size > 0 || running.size > 0) {
    for (const t of [...waiting]) {
      if (stop.interrupted) {
        await settle(t, "not run");
        continue;
      }
      const deps = (t.sub.after ?? []).map((a) => statusOf(t.i, a));
      if (deps.some((d) => d !== undefined && d !== "done")) {
        await settle(t, "blocked");
        continue;
      }
      if (deps.some((d) => d === undefined) || running.size >= jobs) continue;
      waiting.delete(t);
      const job = runOne(t.sub, t.seed, dir(t), o).then((r) => {
        slots[t.i]![t.j] = r;
        const trained = r.metrics.train.length > 0;
        if (r.status === "interrupted" && (!stop.interrupted || (trained && !stop.trained))) {
          stop.interrupted = new Interrupted(r.error!, o.env.stop?.signal ?? "SIGINT");
          stop.trained = trained;
        }
        progress?.update(++finished, `${t.sub.name}/seed-${t.seed} ${r.status}`);
      }).finally(() => running.delete(job));
      running.add(job);
    }
    if (running.size > 0) await Promise.race(running);
    else {
      // Nothing runs and nothing can start: what is left waits for a sub-run not in the plan.
      for (const t of [...waiting]) await settle(t, "blocked");
    }
  }
  progress?.stop();
  const results = slots.map((row) => row.map((r) => r!));
  const { files, results: report } = await writeExperimentReport(exp, params, results, {
    out: o.out,
    seeds: o.seeds,
    backend: o.env.backend.description,
    command: o.env.command,
    jobs: o.env.jobs,
  });
  const unfinished = results.flat().filter((r) => r.status !== "done");
  const stopped = stop.interrupted;
  if (stopped) {
    throw new Interrupted(
      `${stopped.message}; report written to "${
        join(o.out, "report.md")
      }" (run the same command again to continue)`,
      stopped.signal,
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

/**
 * Runs one sub-run unless its marker says it is done: here under its directory's lock, or in a
 * child process that takes the lock itself (so a child that outlives this process keeps it).
 */
async function runOne(
  sub: SubRun,
  seed: number,
  dir: string,
  o: RunOptions,
): Promise<SubRunResult> {
  if (await isDone(dir)) return await result(sub, seed, dir, "done", false, null);
  const retry = await wasStarted(dir);
  if (o.launcher) return await runLockedSubRun(sub, seed, dir, o, retry);
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
    if (o.launcher) {
      await runInChild(o.launcher, { out: o.out, name: sub.name, seed, retry }, o.env);
    } else {
      await sub.run(dir, {
        seed,
        retry,
        dirOf: (name) => subRunDir(o.out, name, seed),
        env: o.env,
      });
    }
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

/**
 * What a sub-run's directory holds, without running it: `done` with its marker, else the status
 * of its last attempt (`failed`, `interrupted`), else `not run`.
 *
 * @param sub The sub-run.
 * @param seed Its seed.
 * @param dir Its directory.
 */
export async function storedResult(sub: SubRun, seed: number, dir: string): Promise<SubRunResult> {
  if (await isDone(dir)) return await result(sub, seed, dir, "done", false, null);
  const last = (await readAttempts(dir)).at(-1);
  return await result(sub, seed, dir, last?.status ?? "not run", false, null);
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
    const held = describe(JSON.parse(existing), name);
    throw new InvalidRequest(
      (s) =>
        `Cannot run experiment "${name}" in "${out}": it holds ${held} (use another ${
          s.option("out")
        }, or ${s.option("force")} to start afresh)`,
      { option: "out" },
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
 * import { canonical } from "./run_experiment.ts";
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
