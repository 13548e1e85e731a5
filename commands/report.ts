/**
 * `moe report`: the report of any training run from its `metrics.jsonl` — a summary table,
 * per-class validation, and plots of loss, learning rate and (distillation runs) α.
 *
 * @module
 */
import type { Command } from "commander";
import { dirname } from "node:path";
import { writeRunReport } from "../core/report/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";

interface ReportFlags extends GlobalOptions {
  out?: string;
}

/** The `report` command. */
export function reportCommand(): Command {
  return standardCommand(
    "report",
    "Summarize a training run and plot its curves (report.md, report.json, SVG and PNG plots)",
  )
    .argument("<METRICS>", "a run's metrics.jsonl (moe train, moe distill)")
    .option("-o, --out <DIR>", "where to write the report (default: the metrics file's directory)")
    .addHelpText(
      "after",
      `
Writes report.md, report.json, loss.svg/png, lr.svg/png and, when the run logged α, alpha.svg/png.

Examples:
  moe report runs/teacher/metrics.jsonl
  moe report runs/seq/metrics.jsonl --out reports/seq
  moe report runs/teacher/metrics.jsonl --json`,
    )
    .action(action(async (metrics: string, flags: ReportFlags) => {
      const out = flags.out ?? dirname(metrics);
      const { summary, files } = await writeRunReport(metrics, out);
      if (flags.json) return printJson({ metrics, out, files, summary });
      const val = summary.val
        ? Object.entries(summary.val).map(([c, v]) => `${c} ${v.loss.toFixed(3)}`).join(", ")
        : "none";
      console.log(
        `${summary.steps} steps, ${summary.tokens} tokens, final train loss ${
          summary.finalTrainLoss?.toFixed(3)
        }; validation loss at step ${summary.valStep ?? "–"}: ${val}`,
      );
      console.log(`wrote ${files.map((f) => `${out}/${f}`).join(", ")}`);
    }));
}
