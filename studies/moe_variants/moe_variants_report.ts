/**
 * The MoE-variants study's report: per-class perplexity and loss of every variant (mean ± std
 * over seeds), the paper's uniform expert averages, parameters (total and active per token),
 * routing accuracy, the paper's claim checked with paired intervals over seeds, and the plots.
 *
 * @module
 */
import { join } from "node:path";
import {
  barChart,
  fixed,
  type Interval,
  intervalText,
  lineChart,
  mdTable,
  meanStd,
  type NamedChart,
  type SeriesPoint,
  stats,
  tInterval,
  type Verdict,
  verdictOf,
} from "../../core/report/mod.ts";
import type { ReportParts, SubRunResult } from "../experiment.ts";
import { statisticsSection } from "../statistics_section.ts";
import {
  averageTitle,
  EVAL_FILE,
  EVAL_RUN,
  VARIANT_ROWS,
  type VariantsEval,
} from "./moe_variants_rows.ts";
import type { MoEVariantsParams } from "./moe_variants_params.ts";
import { variantSizes } from "./moe_variants_size.ts";

/**
 * Relative perplexity gap within which two variants count as "≈" for the paper's claim: a
 * difference of mean loss within ±ln(1 + VARIANTS_SIMILAR) nats/token.
 */
export const VARIANTS_SIMILAR = 0.05;

/** One part of the paper's claim, checked on paired per-seed differences of mean loss. */
export interface ClaimPart {
  text: string;
  /** Mean loss of the first variant minus the second's, per seed pair, with its 95 % t interval. */
  diff: Interval;
  verdict: Verdict;
}

/** The paper's claim, checked. */
export interface VariantsClaim {
  claim: string;
  /** `agree` when every part agrees, `disagree` when one disagrees, else `inconclusive`. */
  verdict: Verdict;
  parts: ClaimPart[];
  text: string;
}

/**
 * The verdict on "a ≈ b" from the interval of a − b: `agree` when it lies within ±margin,
 * `disagree` when it lies wholly outside, `inconclusive` otherwise (or with fewer than 2 seeds).
 *
 * @example
 * ```ts
 * import { similarVerdict } from "./moe_variants_report.ts";
 * const ci = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, std: 1, n: 3, level: 0.95, df: 2, lo, hi });
 * console.assert(similarVerdict(ci(-0.01, 0.02), 0.05) === "agree");
 * console.assert(similarVerdict(ci(0.1, 0.3), 0.05) === "disagree");
 * console.assert(similarVerdict(ci(-0.01, 0.3), 0.05) === "inconclusive");
 * ```
 */
export function similarVerdict(ci: Interval, margin: number): Verdict {
  if (ci.n === 0) return "no data";
  if (ci.n < 2 || !Number.isFinite(ci.lo)) return "inconclusive";
  if (ci.lo > -margin && ci.hi < margin) return "agree";
  if (ci.lo > margin || ci.hi < -margin) return "disagree";
  return "inconclusive";
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
  const claim = checkVariantsClaim((key) => values(key, (s) => s.loss));
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
  const averages = averagesSummary(p, evals.map((e) => e.eval));
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
      {
        title: "Uniform expert averages (the paper's evaluation)",
        body: averagesTable(p, averages),
      },
      { title: "Parameters", body: parametersTable(sizes) },
      { title: "Routing", body: routingTable(p, evals.map((e) => e.eval)) },
      statisticsSection(
        `"≈" is agreed when the interval of the difference of mean loss lies within ±ln(${
          1 + VARIANTS_SIMILAR
        }) = ±${fixed(Math.log(1 + VARIANTS_SIMILAR))} nats/token (perplexities within ${
          100 * VARIANTS_SIMILAR
        } %), and disagreed when it lies wholly outside.`,
      ),
    ],
    charts: charts(p, results, evals.map((e) => ({ seed: e.seed, eval: e.eval }))),
    json: { claim, summary, averages, perSeed: evals },
  };
}

/** The uniform averages over seeds: per bundle and subset, per-class and mean perplexity. */
function averagesSummary(p: MoEVariantsParams, evals: VariantsEval[]) {
  const first = evals.find((e) => e.averages !== undefined)?.averages ?? [];
  return first.map((a) => {
    const same = evals.flatMap((e) =>
      (e.averages ?? []).filter((x) =>
        x.bundle === a.bundle && x.members.join() === a.members.join()
      )
    );
    return {
      bundle: a.bundle,
      members: a.members,
      title: averageTitle(a),
      ppl: stats(same.map((x) => x.mean.ppl)),
      loss: stats(same.map((x) => x.mean.loss)),
      perClassPpl: Object.fromEntries(
        p.classes.map((c) => [c, stats(same.map((x) => x.perClass[c]!.ppl))]),
      ),
    };
  });
}

function averagesTable(
  p: MoEVariantsParams,
  averages: ReturnType<typeof averagesSummary>,
): string {
  if (averages.length === 0) {
    return "Not measured in this study's evaluation (it ran before uniform averages existed).\n";
  }
  const cell = (s: { mean: number; std: number; n: number }) =>
    s.n === 0 ? "–" : s.n > 1 ? `${fixed(s.mean, 2)} ± ${fixed(s.std, 2)}` : fixed(s.mean, 2);
  return "Every expert of the subset with weight 1/k for every sequence, whatever the router says " +
    "(hidden states averaged for JEET and MoE-CE, whose stacks share the embedding; next-token " +
    "distributions for PLE). Validation perplexity per class, mean ± std over seeds:\n\n" +
    mdTable(
      ["average", ...p.classes, "mean"],
      averages.map((a) => [
        a.title,
        ...p.classes.map((c) => cell(a.perClassPpl[c]!)),
        cell(a.ppl),
      ]),
    );
}

/**
 * "PLE ≈ JEET > MoE-CE without its common expert", on mean loss over classes (routed), paired
 * by seed: PLE ≈ JEET when the interval of their difference lies within ±ln(1.05) nats/token,
 * "> MoE-CE" when the interval of the difference lies below 0.
 *
 * @param loss The per-seed mean losses of a variant key (seeds in the same order for every key).
 * @returns The verdict of each part and of the claim, and a paragraph saying so.
 *
 * @example
 * ```ts
 * import { checkVariantsClaim } from "./moe_variants_report.ts";
 * const loss: Record<string, number[]> = {
 *   "ple-routed": [3.0, 3.1, 3.05], "jeet-routed": [3.01, 3.1, 3.06], "moe-ce-routed": [3.3, 3.4, 3.3],
 * };
 * console.assert(checkVariantsClaim((k) => loss[k] ?? []).verdict === "agree");
 * ```
 */
export function checkVariantsClaim(loss: (key: string) => number[]): VariantsClaim {
  const claim = "PLE ≈ JEET > MoE-CE without its common expert";
  const [ple, jeet, ce] = ["ple-routed", "jeet-routed", "moe-ce-routed"].map(loss) as [
    number[],
    number[],
    number[],
  ];
  const paired = (a: number[], b: number[]) => tInterval(a.map((x, i) => x - b[i]!));
  const margin = Math.log(1 + VARIANTS_SIMILAR);
  const similar = paired(ple, jeet);
  const jeetBetter = paired(jeet, ce), pleBetter = paired(ple, ce);
  const parts: ClaimPart[] = [
    { text: "PLE ≈ JEET", diff: similar, verdict: similarVerdict(similar, margin) },
    { text: "JEET > MoE-CE without common", diff: jeetBetter, verdict: verdictOf(jeetBetter, -1) },
    { text: "PLE > MoE-CE without common", diff: pleBetter, verdict: verdictOf(pleBetter, -1) },
  ];
  const verdict: Verdict = similar.n === 0
    ? "no data"
    : parts.every((x) => x.verdict === "agree")
    ? "agree"
    : parts.some((x) => x.verdict === "disagree")
    ? "disagree"
    : "inconclusive";
  if (verdict === "no data") {
    return { claim, verdict, parts, text: `Paper: "${claim}". Not yet measured.` };
  }
  const ppl = (xs: number[]) => fixed(Math.exp(stats(xs).mean), 2);
  const text =
    `Paper: "${claim}". Here (routed; perplexity of the mean loss over classes, ${similar.n} seed${
      similar.n === 1 ? "" : "s"
    }): PLE ${ppl(ple)}, JEET ${ppl(jeet)}, MoE-CE without common ${ppl(ce)}. **${verdict}** — ${
      parts.map((x) => `${x.text}: ${x.verdict} (difference of mean loss ${intervalText(x.diff)})`)
        .join("; ")
    }.`;
  return { claim, verdict, parts, text };
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
