/**
 * The MoE-variants study's report: per-class perplexity and loss of every variant (mean ± std
 * over seeds), parameters (total and active per token), routing accuracy, the paper's claim
 * checked against the numbers, and the plots.
 *
 * @module
 */
import { join } from "node:path";
import {
  barChart,
  fixed,
  lineChart,
  mdTable,
  meanStd,
  type NamedChart,
  type SeriesPoint,
  stats,
} from "../report/mod.ts";
import type { ReportParts, SubRunResult } from "./experiment.ts";
import { EVAL_FILE, EVAL_RUN, VARIANT_ROWS, type VariantsEval } from "./moe_variants_rows.ts";
import type { MoEVariantsParams } from "./moe_variants_params.ts";
import { variantSizes } from "./moe_variants_size.ts";

/** Relative perplexity gap within which two variants count as "≈" for the paper's claim. */
export const VARIANTS_SIMILAR = 0.05;

/** The paper's claim, checked. */
export interface VariantsClaim {
  claim: string;
  /** null when a variant has no evaluation yet. */
  agrees: boolean | null;
  text: string;
}

/**
 * Builds the report of a MoE-variants study from its sub-runs (the `eval` sub-run's
 * `eval.json` of every seed that finished it).
 */
export function moeVariantsReport(p: MoEVariantsParams, results: SubRunResult[][]): ReportParts {
  const evals = results.flat().filter((r) => r.name === EVAL_RUN && r.status === "done")
    .map((r) => ({
      seed: r.seed,
      eval: JSON.parse(Deno.readTextFileSync(join(r.dir, EVAL_FILE))) as VariantsEval,
    }));
  const values = (key: string, pick: (s: { loss: number; ppl: number }) => number, c?: string) =>
    evals.map(({ eval: e }) => {
      const row = e.rows.find((r) => r.key === key)!;
      return pick(c === undefined ? row.mean : row.perClass[c]!);
    });
  const claim = checkVariantsClaim((key) => values(key, (s) => s.ppl));
  const table = (pick: (s: { loss: number; ppl: number }) => number, digits: number) =>
    mdTable(
      ["variant", ...p.classes, "mean"],
      VARIANT_ROWS.map((v) => [
        v.title,
        ...[...p.classes, undefined].map((c) =>
          evals.length === 0 ? "–" : meanStd(values(v.key, pick, c), digits)
        ),
      ]),
    );
  const sizes = variantSizes(p.model, p.teacher.model, p.classes.length);
  const summary = Object.fromEntries(VARIANT_ROWS.map((v) => [v.key, {
    title: v.title,
    ppl: stats(values(v.key, (s) => s.ppl)),
    loss: stats(values(v.key, (s) => s.loss)),
    perClassPpl: Object.fromEntries(
      p.classes.map((c) => [c, stats(values(v.key, (s) => s.ppl, c))]),
    ),
    ...sizes[v.key]!,
  }]));
  return {
    sections: [
      { title: "Paper claim", body: `${claim.text}\n` },
      {
        title: "Per-class perplexity",
        body: `Validation perplexity per class (mean ± std over ${evals.length} seed${
          evals.length === 1 ? "" : "s"
        }; "mean" = perplexity of the mean per-class loss):\n\n${table((s) => s.ppl, 2)}`,
      },
      { title: "Per-class validation loss", body: `Nats per token:\n\n${table((s) => s.loss, 3)}` },
      { title: "Parameters", body: parametersTable(sizes) },
      { title: "Routing", body: routingTable(p, evals.map((e) => e.eval)) },
    ],
    charts: charts(p, results, evals.map((e) => ({ seed: e.seed, eval: e.eval }))),
    json: { claim, summary, perSeed: evals },
  };
}

/**
 * "PLE ≈ JEET > MoE-CE without its common expert", on mean perplexity over classes (routed):
 * ≈ = within {@linkcode VARIANTS_SIMILAR} of each other, > = lower perplexity.
 *
 * @param ppl The per-seed mean perplexities of a variant key.
 * @returns Whether the numbers agree, and a sentence saying so with the numbers.
 *
 * @example
 * ```ts
 * import { checkVariantsClaim } from "./moe_variants_report.ts";
 * const ppl: Record<string, number[]> = { "ple-routed": [20], "jeet-routed": [20.5], "moe-ce-routed": [25] };
 * console.assert(checkVariantsClaim((k) => ppl[k] ?? []).agrees === true);
 * ```
 */
export function checkVariantsClaim(ppl: (key: string) => number[]): VariantsClaim {
  const claim = "PLE ≈ JEET > MoE-CE without its common expert";
  const [ple, jeet, ce] = ["ple-routed", "jeet-routed", "moe-ce-routed"].map((k) =>
    stats(ppl(k)).mean
  ) as [number, number, number];
  if (![ple, jeet, ce].every(Number.isFinite)) {
    return { claim, agrees: null, text: `Paper: "${claim}". Not yet measured.` };
  }
  const gap = Math.abs(ple - jeet) / Math.min(ple, jeet);
  const similar = gap <= VARIANTS_SIMILAR;
  const better = ple < ce && jeet < ce;
  const agrees = similar && better;
  const text = `Paper: "${claim}". Here (routed, mean perplexity over classes): PLE ${
    fixed(ple, 2)
  }, JEET ${fixed(jeet, 2)} (${similar ? "within" : "more than"} ${
    100 * VARIANTS_SIMILAR
  } % of each other: ${fixed(100 * gap, 1)} %), MoE-CE without common ${fixed(ce, 2)} (${
    better ? "worse than both" : "not worse than both"
  }). **${agrees ? "Agrees" : "Disagrees"}** with the paper${
    agrees ? "" : `: ${
      [
        !similar ? "PLE and JEET differ" : "",
        !better ? "MoE-CE without common is not the worst" : "",
      ]
        .filter((s) => s).join("; ")
    }`
  }.`;
  return { claim, agrees, text };
}

function parametersTable(sizes: Record<string, { total: number; active: number }>): string {
  return "Counted from the configs: a GPT is its token table (also the tied head), position table, blocks and final LayerNorm; JEET / MoE-CE stacks share one token table. Total = every stored parameter (router not counted); active per token = the routed expert, plus the common stack where it is used.\n\n" +
    mdTable(
      ["variant", "total parameters", "active per token"],
      VARIANT_ROWS.map((v) => [v.title, String(sizes[v.key]!.total), String(sizes[v.key]!.active)]),
    );
}

function routingTable(p: MoEVariantsParams, evals: VariantsEval[]): string {
  if (evals.length === 0) return "Not evaluated yet.\n";
  const acc = (c: string) => meanStd(evals.map((e) => 100 * e.routing[c]!.accuracy), 1);
  const all = evals.map((e) => 100 * stats(p.classes.map((c) => e.routing[c]!.accuracy)).mean);
  return "Share of validation sequences the router sends to their own class's expert (%):\n\n" +
    mdTable([...p.classes, "mean"], [[...p.classes.map(acc), meanStd(all, 1)]]);
}

function charts(
  p: MoEVariantsParams,
  results: SubRunResult[][],
  evals: { seed: number; eval: VariantsEval }[],
): NamedChart[] {
  const shown = VARIANT_ROWS.filter((v) => !v.key.endsWith("-oracle") && v.key !== "moe-ce-common");
  const bars = evals.flatMap(({ seed, eval: e }) =>
    shown.flatMap((v) => {
      const row = e.rows.find((r) => r.key === v.key)!;
      return p.classes.map((c) => ({ group: c, series: v.title, y: row.perClass[c]!.ppl, seed }));
    })
  );
  const curves: SeriesPoint[] = results.flat().filter((r) => r.name !== EVAL_RUN).flatMap((r) =>
    r.metrics.eval.map((e) => ({
      x: e.step,
      y: stats(Object.values(e.val).map((v) => v.loss)).mean,
      series: r.name,
      seed: r.seed,
    }))
  );
  return [{
    name: "ppl_by_class",
    caption:
      "Validation perplexity per class of each variant (routed; teacher and common expert for reference)",
    spec: barChart({
      title: "Per-class validation perplexity by variant",
      xTitle: "class",
      yTitle: "perplexity",
      bars,
    }),
  }, {
    name: "val_loss",
    caption: "Validation loss during training (mean over the classes each run learns)",
    spec: lineChart({
      title: "Validation loss during training",
      xTitle: "step",
      yTitle: "validation loss (nats/token)",
      points: curves,
      markers: true,
    }),
  }];
}
