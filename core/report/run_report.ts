/**
 * The report of one training run (`moe report METRICS.jsonl`): a summary table in `report.md`,
 * the same numbers in `report.json`, and plots of the loss curves, the learning rate and, for
 * distillation runs, α and the two loss terms.
 *
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../files/mod.ts";
import { lineChart, type Rule, type SeriesPoint } from "./charts.ts";
import { fixed, mdTable } from "./markdown.ts";
import { evalClasses, readMetrics, type RunMetrics } from "./run_metrics.ts";
import { type RunSummary, summarizeRun } from "./summary.ts";
import { chartMarkdown, type NamedChart, writeCharts } from "./write.ts";

/** What {@linkcode writeRunReport} wrote. */
export interface RunReport {
  summary: RunSummary;
  /** The files written, relative to the output directory. */
  files: string[];
}

/**
 * The charts of one run: `loss` (train loss and per-class validation loss over steps, with phase
 * boundaries of a sequential run), `lr`, and `alpha` (α, CE and KD) when the run logged α.
 *
 * @param m The run's metrics.
 * @returns The charts to render.
 *
 * @example
 * ```ts
 * import { parseMetrics, runCharts } from "./mod.ts";
 * const m = parseMetrics('{"event":"train","step":1,"loss":5,"lr":1,"grad_norm":1,"tokens":8,"tokens_per_s":1}');
 * console.assert(runCharts(m).map((c) => c.name).join() === "loss,lr");
 * ```
 */
export function runCharts(m: RunMetrics): NamedChart[] {
  const loss: SeriesPoint[] = m.train.map((r) => ({ x: r.step, y: r.loss, series: "train" }));
  for (const e of m.eval) {
    for (const [c, v] of Object.entries(e.val)) {
      loss.push({ x: e.step, y: v.loss, series: `val ${c}` });
    }
  }
  const charts: NamedChart[] = [{
    name: "loss",
    caption: "Train loss and per-class validation loss over steps",
    spec: lineChart({
      title: "Loss",
      xTitle: "step",
      yTitle: "loss (nats/token)",
      points: loss,
      rules: phaseRules(m),
      faint: ["train"],
      markers: m.eval.length < 40,
    }),
  }, {
    name: "lr",
    caption: "Learning rate over steps",
    spec: lineChart({
      title: "Learning rate",
      xTitle: "step",
      yTitle: "learning rate",
      points: m.train.map((r) => ({ x: r.step, y: r.lr, series: "lr" })),
    }),
  }];
  if (m.train.some((r) => typeof r.alpha === "number")) {
    const points: SeriesPoint[] = [];
    for (const r of m.train) {
      for (const key of ["alpha", "ce", "kd"] as const) {
        const y = r[key];
        if (typeof y === "number") {
          points.push({ x: r.step, y, series: key, facet: key === "alpha" ? "α" : "loss terms" });
        }
      }
    }
    charts.push({
      name: "alpha",
      caption: "α (weight of CE) and the CE and KD loss terms over steps",
      spec: lineChart({ title: "Distillation", xTitle: "step", yTitle: "value", points }),
    });
  }
  return charts;
}

/** Dashed rules where a sequential run's phase changes (between two evaluations' steps). */
function phaseRules(m: RunMetrics): Rule[] {
  const rules: Rule[] = [];
  let previous: string | undefined;
  for (const e of m.eval) {
    if (e.phase !== undefined && previous !== undefined && e.phase !== previous) {
      const end = m.eval.findLast((f) => f.phase === previous && f.step < e.step)!;
      rules.push({ x: end.step, label: e.phase });
    }
    if (e.phase !== undefined) previous = e.phase;
  }
  return rules;
}

/**
 * The Markdown report of one run.
 *
 * @param name What to call the run in the title.
 * @param s Its summary.
 * @param m Its metrics.
 * @param charts The charts written beside it.
 * @returns `report.md`'s text.
 */
export function runMarkdown(
  name: string,
  s: RunSummary,
  m: RunMetrics,
  charts: NamedChart[],
): string {
  const rows = [
    ["steps", String(s.steps)],
    ["tokens", String(s.tokens)],
    ["throughput (tokens/s)", s.tokensPerSecond === null ? "–" : String(s.tokensPerSecond)],
    ["final train loss", fixed(s.finalTrainLoss ?? NaN)],
    ["mean train loss, last 10 % of steps", fixed(s.tailTrainLoss ?? NaN)],
    ...(s.finalAlpha !== null ? [["final α", fixed(s.finalAlpha)]] : []),
    ...(s.divergedAt !== null ? [["diverged at step", String(s.divergedAt)]] : []),
  ];
  const parts = [`# Training run: ${name}\n\n`, mdTable(["", "value"], rows)];
  const classes = evalClasses(m);
  if (s.val) {
    parts.push(
      `\n## Validation at step ${s.valStep}\n\n`,
      mdTable(
        ["class", "loss", "perplexity"],
        classes.map((c) => [c, fixed(s.val![c]?.loss ?? NaN), fixed(s.val![c]?.ppl ?? NaN, 2)]),
      ),
    );
  }
  if (s.phases.length > 0) {
    parts.push(
      "\n## Validation loss at the end of each phase\n\n",
      mdTable(
        ["after phase", "step", ...classes],
        s.phases.map((
          p,
        ) => [p.phase, String(p.step), ...classes.map((c) => fixed(p.val[c]?.loss ?? NaN))]),
      ),
    );
  }
  parts.push("\n## Plots\n\n", ...charts.map(chartMarkdown));
  return parts.join("");
}

/**
 * Writes the report of a run: `report.md`, `report.json` and the charts (SVG and PNG), each file
 * atomically.
 *
 * @param metricsPath The run's `metrics.jsonl`.
 * @param outDir Where to write (created if missing).
 * @returns The summary and the files written.
 * @throws {Error} If the metrics cannot be read or hold no train record.
 */
export async function writeRunReport(metricsPath: string, outDir: string): Promise<RunReport> {
  const m = await readMetrics(metricsPath);
  if (m.train.length === 0) {
    throw new Error(`Cannot report on "${metricsPath}": it holds no train record`);
  }
  const summary = summarizeRun(m);
  const charts = runCharts(m);
  await writeCharts(outDir, charts);
  const name = basename(join(metricsPath, ".."));
  await writeFileAtomic(join(outDir, "report.md"), runMarkdown(name, summary, m, charts));
  await writeFileAtomic(
    join(outDir, "report.json"),
    JSON.stringify({ metrics: metricsPath, summary, charts: charts.map((c) => c.name) }, null, 2) +
      "\n",
  );
  const files = [
    "report.md",
    "report.json",
    ...charts.flatMap((c) => [`${c.name}.svg`, `${c.name}.png`]),
  ];
  return { summary, files };
}
