/**
 * An experiment's report files: `report.md` (setup, the status of every sub-run, the experiment's
 * own sections, plots), `report.json` (the same, machine-readable) and the plots as SVG and PNG,
 * each written atomically. `report.md` names no absolute path (the machine's folders are shown
 * by their last two parts), so it reads the same wherever the study ran.
 *
 * @module
 */
import { join, relative } from "node:path";
import { writeFileAtomic } from "../core/files/mod.ts";
import {
  chartMarkdown,
  fixed,
  mdTable,
  withoutAbsolutePaths,
  writeCharts,
} from "../core/report/mod.ts";
import type { Experiment, ExperimentEnv, SubRunResult } from "./experiment.ts";

/** What a report says about where and how its experiment ran. */
export interface ReportContext {
  /** The experiment directory. */
  out: string;
  seeds: number[];
  /** The backend's description (results reproduce on the same backend only). */
  backend: string;
  /** The command line that ran it. */
  command?: string | undefined;
  /** How the sub-runs ran ({@linkcode ExperimentEnv.jobs}). */
  jobs?: ExperimentEnv["jobs"];
}

/**
 * Builds and writes the report of an experiment.
 *
 * @param exp The experiment.
 * @param params Its parameters.
 * @param results The sub-runs of every seed.
 * @param o The output directory, seeds, backend, command line and how the sub-runs ran.
 * @returns The files written (relative to `o.out`) and the experiment's JSON results.
 */
export async function writeExperimentReport<P>(
  exp: Experiment<P>,
  params: P,
  results: SubRunResult[][],
  o: ReportContext,
): Promise<{ files: string[]; results: unknown }> {
  const parts = exp.report(params, results);
  const flat = results.flat();
  const unfinished = flat.filter((r) => r.status !== "done");
  const md = [
    `# ${exp.title}\n\n`,
    unfinished.length === 0
      ? `All ${flat.length} sub-runs finished.\n`
      : `**Incomplete:** ${unfinished.length} of ${flat.length} sub-runs are not finished ` +
        `(${unfinished.map((r) => `${r.name}/seed-${r.seed} ${r.status}`).join(", ")}); ` +
        "the numbers below use what they logged so far. Run the same command again to continue them.\n",
    "\n## Setup\n\n",
    exp.setup(params),
    `- seeds: ${o.seeds.join(", ")}\n`,
    `- backend: ${o.backend}\n`,
    `- ${howRun(o)}\n`,
    ...(o.command ? [`- command: \`${o.command}\`\n`] : []),
    "\n## Sub-runs\n\n",
    statusTable(flat),
    ...parts.sections.map((s) => `\n## ${s.title}\n\n${s.body.trimEnd()}\n`),
    ...(parts.charts.length > 0 ? ["\n## Plots\n\n", ...parts.charts.map(chartMarkdown)] : []),
  ].join("");
  await writeCharts(o.out, parts.charts);
  await writeFileAtomic(join(o.out, "report.md"), withoutAbsolutePaths(md));
  const json = {
    experiment: exp.name,
    title: exp.title,
    params,
    seeds: o.seeds,
    backend: o.backend,
    command: o.command ?? null,
    jobs: o.jobs ?? null,
    complete: unfinished.length === 0,
    subRuns: flat.map((r) => ({
      name: r.name,
      seed: r.seed,
      status: r.status,
      dir: relative(o.out, r.dir),
      seconds: r.seconds,
      error: r.error,
      summary: r.summary,
    })),
    results: parts.json,
    charts: parts.charts.map((c) => c.name),
  };
  await writeFileAtomic(join(o.out, "report.json"), JSON.stringify(json, null, 2) + "\n");
  const files = ["report.md", "report.json"];
  files.push(...parts.charts.flatMap((c) => [`${c.name}.svg`, `${c.name}.png`]));
  return { files, results: parts.json };
}

/** One row per sub-run: status, length, throughput, time, and why it is not done. */
function statusTable(flat: SubRunResult[]): string {
  return mdTable(
    ["sub-run", "seed", "status", "steps", "tokens", "tokens/s", "seconds", "metrics", "note"],
    flat.map((r) => [
      r.title,
      String(r.seed),
      r.status + (r.status === "done" && !r.ranNow ? " (earlier)" : ""),
      String(r.summary.steps),
      String(r.summary.tokens),
      r.summary.tokensPerSecond === null ? "–" : String(r.summary.tokensPerSecond),
      r.seconds === null ? "–" : fixed(r.seconds, 1),
      `runs/${r.name}/seed-${r.seed}/metrics.jsonl`,
      r.error ?? "",
    ]),
  );
}

/** How the sub-runs ran, and what it means for reproducing them. */
function howRun(o: ReportContext): string {
  const j = o.jobs;
  if (!j) return "sub-runs: one after another in one process";
  const threads = `${j.threads} thread${j.threads === 1 ? "" : "s"}`;
  const exact = j.threads === 1
    ? "one thread each, so the same seed gives the same numbers bit for bit in any run on this backend"
    : "more than one thread each: onnxruntime's parallel reductions may differ in the last digits from one run to the next";
  return `sub-runs: up to ${j.parallel} side by side, each in its own process on ${threads} (${exact})`;
}
