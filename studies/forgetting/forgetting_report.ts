/**
 * The forgetting study's report: per-class validation loss and perplexity after every phase for
 * each regime, the forgetting table, the finding in one paragraph, and the plots.
 *
 * @module
 */
import {
  barChart,
  type ClassVal,
  fixed,
  type Interval,
  intervalText,
  lineChart,
  mdTable,
  meanStd,
  type NamedChart,
  type Rule,
  type SeriesPoint,
  stats,
  tInterval,
  type Verdict,
  verdictOf,
} from "../../core/report/mod.ts";
import type { ReportParts, Section, SubRunResult } from "../experiment.ts";
import { statisticsSection } from "../statistics_section.ts";
import {
  type ClassForgetting,
  forgetting,
  phaseEnds,
  type PhaseVals,
  valsAtPhaseEnds,
} from "./forgetting_analysis.ts";
import type { ForgettingParams } from "./forgetting_params.ts";

const REGIME_NAMES = ["sequential", "balanced", "moe"];

/**
 * Builds the report of a forgetting study from its sub-runs.
 *
 * @param p The study's parameters.
 * @param results The sub-runs of each seed.
 * @returns Sections, charts and the JSON results.
 */
export function forgettingReport(p: ForgettingParams, results: SubRunResult[][]): ReportParts {
  const ends = phaseEnds(p.steps, p.order.length);
  const runs = results.flat().filter((r) => REGIME_NAMES.includes(r.name));
  const phaseVals: PhaseVals[] = runs.map((r) => ({
    regime: r.name,
    seed: r.seed,
    vals: valsAtPhaseEnds(r.metrics, ends),
  }));
  const regimes = REGIME_NAMES.filter((n) => runs.some((r) => r.name === n));
  const titles = Object.fromEntries(runs.map((r) => [r.name, r.title]));
  const table = phaseVals.flatMap((v) => forgetting(v, p.order));
  const claims = forgettingClaims(table);
  const sections: Section[] = [
    { title: "Finding", body: finding(p, regimes, table) + "\n" + claimLines(claims) },
    ...regimes.map((g) => ({
      title: `Validation after every phase: ${titles[g]}`,
      body: phaseTables(p, ends, phaseVals.filter((v) => v.regime === g)),
    })),
    { title: "Forgetting", body: forgettingTable(regimes, titles, table) },
    statisticsSection(
      "Forgetting per seed is the mean over the earlier classes; sequential and balanced training are paired by seed (same initialization and data).",
    ),
  ];
  return {
    sections,
    charts: charts(p, ends, runs, table),
    json: {
      phaseEnds: ends,
      phaseVals,
      forgetting: table,
      summary: summaryOf(regimes, table),
      claims,
    },
  };
}

/** One of the paper's claims on forgetting, checked on the per-seed mean forgetting. */
export interface ForgettingClaim {
  claim: string;
  /** The interval of what is tested (a regime's forgetting, or a paired difference). */
  interval: Interval;
  /** A statistical verdict, or `by construction` where the number cannot be otherwise. */
  verdict: Verdict | "by construction";
}

/** Per-seed mean forgetting of a regime, by seed. */
function perSeed(table: ClassForgetting[], regime: string): Map<number, number> {
  const rows = table.filter((t) => t.regime === regime);
  return new Map(
    [...new Set(rows.map((r) => r.seed))].map((s) => [
      s,
      stats(rows.filter((r) => r.seed === s).map((r) => r.forgetting)).mean,
    ]),
  );
}

/**
 * The paper's three claims: sequential training forgets (its forgetting > 0, and more than
 * balanced training's, paired by seed); balanced training does not (its forgetting ≤ 0); the MoE
 * does not — by construction, as its experts are never trained again.
 */
export function forgettingClaims(table: ClassForgetting[]): Record<string, ForgettingClaim> {
  const seq = perSeed(table, "sequential"), bal = perSeed(table, "balanced");
  const moe = perSeed(table, "moe");
  const seqCI = tInterval([...seq.values()]), balCI = tInterval([...bal.values()]);
  const paired = tInterval(
    [...seq].filter(([s]) => bal.has(s)).map(([s, x]) => x - bal.get(s)!),
  );
  const moeCI = tInterval([...moe.values()]);
  return {
    sequentialForgets: {
      claim: "sequential training forgets earlier languages",
      interval: seqCI,
      verdict: verdictOf(seqCI, 1),
    },
    sequentialVsBalanced: {
      claim: "sequential training forgets more than one session with balanced batches",
      interval: paired,
      verdict: verdictOf(paired, 1),
    },
    balancedDoesNotForget: {
      claim: "one session with balanced batches does not forget",
      interval: balCI,
      verdict: verdictOf(balCI, -1),
    },
    moeDoesNotForget: {
      claim: "the MoE does not forget",
      interval: moeCI,
      verdict: moeCI.n === 0 ? "no data" : "by construction",
    },
  };
}

function claimLines(claims: Record<string, ForgettingClaim>): string {
  return Object.values(claims).map((c) => {
    const why = c.verdict === "by construction"
      ? "an expert is never trained again after its phase, so its forgetting is 0 by construction, not a measurement"
      : c.interval.n < 2
      ? "one seed gives no interval"
      : c.verdict === "inconclusive"
      ? "the interval contains 0"
      : "the interval excludes 0";
    return `- **Paper claim** “${c.claim}”: **${c.verdict}** — ${
      intervalText(c.interval)
    } nats/token (mean [95 % interval] over ${c.interval.n} seed${
      c.interval.n === 1 ? "" : "s"
    }); ${why}.\n`;
  }).join("");
}

/** Mean forgetting over earlier classes and seeds, per regime. */
function summaryOf(regimes: string[], table: ClassForgetting[]) {
  return Object.fromEntries(regimes.map((g) => {
    const rows = table.filter((t) => t.regime === g);
    const perSeed = [...new Set(rows.map((r) => r.seed))].map((s) =>
      stats(rows.filter((r) => r.seed === s).map((r) => r.forgetting)).mean
    );
    return [g, {
      meanForgetting: stats(perSeed),
      allEarlierClassesRose: rows.length > 0 && rows.every((r) => r.forgetting > 0),
    }];
  }));
}

function finding(p: ForgettingParams, regimes: string[], table: ClassForgetting[]): string {
  const s = summaryOf(regimes, table);
  const lines = regimes.map((g) => {
    const m = s[g]!.meanForgetting;
    if (m.n === 0) return `- ${g}: no complete phase evaluations yet\n`;
    const sign = m.mean >= 0 ? "+" : "";
    const std = m.n > 1 ? ` ± ${fixed(m.std)}` : "";
    const every = g === "moe"
      ? "0 by construction: an expert is never trained again"
      : s[g]!.allEarlierClassesRose
      ? "every earlier class's loss rose in every seed"
      : "not every earlier class's loss rose";
    return `- ${g}: mean forgetting ${sign}${fixed(m.mean)}${std} nats/token over the ${
      p.order.length - 1
    } earlier classes (${m.n} seed${m.n > 1 ? "s" : ""}); ${every}\n`;
  });
  // The verdicts are the claims' (intervals, below); this only states the means.
  const seq = s.sequential?.meanForgetting, bal = s.balanced?.meanForgetting;
  const verdict = seq && bal && seq.n > 0 && bal.n > 0
    ? `\nOn average the earlier classes end ${fixed(Math.abs(seq.mean - bal.mean))} nats/token ${
      seq.mean >= bal.mean ? "worse" : "better"
    } after sequential training than after balanced batches, relative to their own phase end.\n`
    : "";
  return `Forgetting = an earlier class's validation loss after the last phase minus its loss right after its own phase (> 0: forgotten); balanced training is measured at the same steps.\n\n${
    lines.join("")
  }${verdict}`;
}

/** Loss and perplexity tables of one regime: a row per phase end, a column per class. */
function phaseTables(p: ForgettingParams, ends: number[], vals: PhaseVals[]): string {
  const cell = (j: number, c: string, key: "loss" | "ppl") => {
    const xs = vals.map((v) => v.vals[j]?.[c]?.[key]).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? "–" : meanStd(xs, key === "loss" ? 3 : 1);
  };
  const table = (key: "loss" | "ppl") =>
    mdTable(
      ["after phase", "step", ...p.order],
      ends.map((step, j) => [
        `${j + 1} (${p.order[j]})`,
        String(step),
        ...p.order.map((c) => cell(j, c, key)),
      ]),
    );
  return `Validation loss (nats/token):\n\n${table("loss")}\nPerplexity:\n\n${table("ppl")}`;
}

function forgettingTable(
  regimes: string[],
  titles: Record<string, string>,
  table: ClassForgetting[],
): string {
  const rows: string[][] = [];
  for (const g of regimes) {
    const classes = [...new Set(table.filter((t) => t.regime === g).map((t) => t.class))];
    for (const c of classes) {
      const xs = table.filter((t) => t.regime === g && t.class === c);
      const col = (k: "learned" | "final" | "forgetting" | "maxRise") =>
        meanStd(xs.map((x) => x[k]));
      rows.push([
        titles[g] ?? g,
        c,
        String(xs[0]!.phase + 1),
        col("learned"),
        col("final"),
        col("forgetting"),
        col("maxRise"),
      ]);
    }
  }
  return "Loss of each earlier class right after its phase, after the last phase, and the rise between them (mean ± std over seeds):\n\n" +
    mdTable([
      "regime",
      "class",
      "phase",
      "loss after its phase",
      "final loss",
      "forgetting",
      "max rise",
    ], rows);
}

function charts(
  p: ForgettingParams,
  ends: number[],
  runs: SubRunResult[],
  table: ClassForgetting[],
): NamedChart[] {
  return [valLossChart(p, ends, runs), forgettingChart(table), trainLossChart(p, ends, runs)];
}

/** Per-class validation loss over steps, a panel per regime, a rule at every phase boundary. */
function valLossChart(p: ForgettingParams, ends: number[], runs: SubRunResult[]): NamedChart {
  const val: SeriesPoint[] = [];
  for (const r of runs) {
    for (const e of r.metrics.eval) {
      for (const c of p.order) {
        const v = (e.val as ClassVal)[c];
        if (v) val.push({ x: e.step, y: v.loss, series: c, facet: r.name, seed: r.seed });
      }
    }
  }
  const rules: Rule[] = [...new Set(runs.map((r) => r.name))].flatMap((facet) =>
    ends.slice(0, -1).map((x, j) => ({ x, label: `→ ${p.order[j + 1]}`, facet }))
  );
  return {
    name: "val_loss",
    caption:
      "Per-class validation loss over steps, one panel per regime, dashed lines at phase boundaries",
    spec: lineChart({
      title: "Per-class validation loss",
      xTitle: "step",
      yTitle: "validation loss (nats/token)",
      points: val,
      rules,
      markers: true,
    }),
  };
}

/** The forgetting of each earlier class, a bar per regime. */
function forgettingChart(table: ClassForgetting[]): NamedChart {
  return {
    name: "forgetting",
    caption: "Forgetting of each earlier class per regime (final loss − loss after its phase)",
    spec: barChart({
      title: "Forgetting (rise of validation loss after later phases)",
      xTitle: "class (in training order)",
      yTitle: "rise in loss (nats/token)",
      bars: table.map((t) => ({ group: t.class, series: t.regime, y: t.forgetting, seed: t.seed })),
    }),
  };
}

/** Train loss over steps, a line per regime. */
function trainLossChart(p: ForgettingParams, ends: number[], runs: SubRunResult[]): NamedChart {
  const train: SeriesPoint[] = [];
  for (const r of runs) {
    for (const t of r.metrics.train) {
      train.push({ x: t.step, y: t.loss, series: r.name, seed: r.seed });
    }
  }
  return {
    name: "train_loss",
    caption: "Train loss over steps per regime",
    spec: lineChart({
      title: "Train loss",
      xTitle: "step",
      yTitle: "train loss (nats/token)",
      points: train,
      rules: ends.slice(0, -1).map((x, j) => ({ x, label: `→ ${p.order[j + 1]}` })),
      faint: [...new Set(runs.map((r) => r.name))],
    }),
  };
}
