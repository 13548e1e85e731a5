/**
 * What `moe eval` reports — per class, the loss and perplexity of every model and combination
 * evaluated, where the router sent each class's sequences, the hard-routed rows' routing regret
 * and the routing rules compared — how one row is scored from per-token losses, and the report as
 * a markdown table.
 *
 * @module
 */
import type { Progress } from "../../core/job/mod.ts";
import type { Backend } from "../../core/runtime/mod.ts";
import type { MixMode } from "./mixture_plan.ts";
import type { RegretScore, RowRegret } from "./routing_regret.ts";
import type { RoutingRulesReport } from "./routing_rules.ts";
import type { ClassData, EvalSample, Losses } from "./token_losses.ts";

/** What to evaluate on. */
export interface EvalOptions extends EvalSample {
  /** Tokens per sequence (default: the smallest context of the models). */
  seqLen?: number;
  /** A teacher run or checkpoint to compare with. */
  teacher?: string;
  backend: Backend;
  progress?: Progress;
  /** `route` (default): the rows above; `router`: also soft routing. */
  mix?: MixMode;
  /**
   * Uniform averages of expert subsets (`uniform_average.ts`, from `parseAverage`): one row
   * `avg(en+py)` each, every member weighing 1/k for every sequence (the paper's evaluation).
   */
  average?: readonly (readonly string[])[];
  /** Prompt tokens of the routing rules' comparison (default: half the sequence). */
  routePrefix?: number;
}

/** Loss (mean nats per token) and perplexity. */
export interface Score {
  loss: number;
  ppl: number;
}

/** One model's scores on every class. */
export interface EvalRow {
  /**
   * `teacher`, `expert:<class>`, `common`, `routed`, `routed+common`, `soft`, `soft+common`,
   * `avg(<members>)` (uniform averages), `oracle`, `oracle+common`.
   */
  name: string;
  perClass: Record<string, Score>;
  /** Mean of the per-class losses (and its perplexity). */
  mean: Score;
  /** The hard-routed rows' (`routed`, `routed+common`) routing regret. */
  regret?: RowRegret;
}

/** Where the router sent each class's sequences. */
export interface RoutingReport {
  /** Share of sequences routed to their own class. */
  accuracy: number;
  /** Sequences per label (classes and `unknown`). */
  counts: Record<string, number>;
}

/** What a bundle's evaluation gives on any windows: rows, routing, routing rules. */
export interface WindowsEvaluation {
  rows: EvalRow[];
  /** Per class (empty when the sequences' classes are unknown). */
  routing: Record<string, RoutingReport>;
  routingRules: RoutingRulesReport;
}

/** Everything `moe eval` reports. */
export interface EvalReport {
  classes: string[];
  split: string;
  seqLen: number;
  /** Sequences evaluated per class. */
  sequences: Record<string, number>;
  rows: EvalRow[];
  routing: Record<string, RoutingReport>;
  /** A bundle's routing rules compared (absent for one model). */
  routingRules?: RoutingRulesReport;
}

/**
 * One row of the table: per class, the mean of the counted per-token losses of each sequence's
 * pick (the model whose losses count for sequence `row` of class `cls`), and their mean.
 */
export function classRow(
  name: string,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  pick: (cls: string, row: number) => Losses,
): EvalRow {
  const perClass: Record<string, Score> = {};
  for (const [cls, d] of data) {
    let sum = 0;
    for (let r = 0; r < d.rows; r++) {
      const l = pick(cls, r);
      for (let t = r * seqLen; t < (r + 1) * seqLen; t++) sum += l[t]!;
    }
    perClass[cls] = score(sum / Math.max(1, d.tokens));
  }
  const mean = Object.values(perClass).reduce((s, v) => s + v.loss, 0) / data.size;
  return { name, perClass, mean: score(mean) };
}

/**
 * A loss in nats per token with its perplexity.
 *
 * @example
 * ```ts
 * import { score } from "./eval_report.ts";
 * console.assert(score(Math.LN2).ppl === 2);
 * ```
 */
export function score(loss: number): Score {
  return { loss, ppl: Math.exp(loss) };
}

/**
 * The report as a markdown table: one row per model, `loss / ppl` per class and their mean,
 * then (for a bundle) the routing accuracy per class and the hard-routed rows' regret.
 */
export function formatEvalTable(
  report: Pick<EvalReport, "classes" | "rows" | "routing">,
): string {
  const head = ["model", ...report.classes, "mean"];
  const cell = (s: Score) => `${s.loss.toFixed(3)} / ${s.ppl.toFixed(2)}`;
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...report.rows.map((r) =>
      `| ${
        [r.name, ...report.classes.map((c) => cell(r.perClass[c]!)), cell(r.mean)].join(" | ")
      } |`
    ),
  ];
  // A single model has no router (its report's routing is empty).
  if (Object.keys(report.routing).length > 0) {
    lines.push(
      `| routing accuracy | ${
        report.classes.map((c) => `${(100 * report.routing[c]!.accuracy).toFixed(1)} %`).join(
          " | ",
        )
      } | |`,
    );
  }
  // Regret (nats/token) / share of sequences sent to their best choice.
  const regret = (s: RegretScore) => `${s.regret.toFixed(4)} / ${(100 * s.bestShare).toFixed(1)} %`;
  for (const r of report.rows) {
    if (!r.regret) continue;
    const cells = [
      ...report.classes.map((c) => regret(r.regret!.perClass[c]!)),
      regret(r.regret.mean),
    ];
    lines.push(`| ${r.name} regret / best | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
