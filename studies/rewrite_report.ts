/**
 * Writing an experiment's report again from what its sub-runs left on disk, running nothing: for
 * a report whose format changed after the study ran (`moe experiment report --out DIR`).
 *
 * @module
 */
import { join } from "node:path";
import { lockRun } from "../pipeline/training/mod.ts";
import type { SubRunResult } from "./experiment.ts";
import { writeExperimentReport } from "./experiment_report.ts";
import { readExperiment } from "./study_registry.ts";
import { storedResult } from "./run_experiment.ts";
import { subRunDir } from "./sub_run_dir.ts";

/** What a rewritten report holds. */
export interface RewrittenReport {
  experiment: string;
  seeds: number[];
  results: SubRunResult[][];
  /** Files written in the directory. */
  files: string[];
  /** The experiment's own results (as in report.json). */
  report: unknown;
}

/**
 * Rewrites `report.md`, `report.json` and the plots of the experiment in `out` from its
 * `experiment.json` and its sub-runs' directories, under the experiment's lock. The seeds, the
 * backend, the command line and how the sub-runs ran are kept from the previous `report.json`
 * (the seeds found under `runs/` when there is none).
 *
 * @param out The experiment directory.
 * @param onStaleLock Told when a stale lock is taken over.
 * @throws {Error} If `experiment.json` is missing or names no known experiment.
 * @throws {RunLocked} If the experiment is running.
 */
export async function rewriteReport(
  out: string,
  onStaleLock?: (line: string) => void,
): Promise<RewrittenReport> {
  const lock = await lockRun(out, onStaleLock);
  try {
    const { experiment, params } = await readExperiment(out);
    const previous = await Deno.readTextFile(join(out, "report.json"))
      .then((t) => JSON.parse(t) as Record<string, unknown>, () => ({} as Record<string, unknown>));
    const seeds = Array.isArray(previous.seeds)
      ? previous.seeds.filter((s): s is number => typeof s === "number")
      : await seedsOnDisk(out);
    const results: SubRunResult[][] = [];
    for (const seed of seeds) {
      const row: SubRunResult[] = [];
      for (const sub of experiment.subRuns(params, seed)) {
        row.push(await storedResult(sub, seed, subRunDir(out, sub.name, seed)));
      }
      results.push(row);
    }
    const jobs = previous.jobs as { parallel: number; threads: number } | null | undefined;
    const written = await writeExperimentReport(experiment, params, results, {
      out,
      seeds,
      backend: typeof previous.backend === "string" ? previous.backend : "unknown",
      command: typeof previous.command === "string" ? previous.command : undefined,
      ...(jobs ? { jobs } : {}),
    });
    return {
      experiment: experiment.name,
      seeds,
      results,
      files: written.files,
      report: written.results,
    };
  } finally {
    lock.release();
  }
}

/** The seeds of every `runs/NAME/seed-N` directory, in order. */
async function seedsOnDisk(out: string): Promise<number[]> {
  const seeds = new Set<number>();
  const runs = await Array.fromAsync(Deno.readDir(join(out, "runs"))).catch(() => []);
  for (const run of runs) {
    for await (const d of Deno.readDir(join(out, "runs", run.name))) {
      const m = d.name.match(/^seed-(\d+)$/);
      if (m) seeds.add(Number(m[1]));
    }
  }
  return [...seeds].sort((a, b) => a - b);
}
