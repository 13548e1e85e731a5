/**
 * Paired comparisons of two distilled students over seeds (same seed: same initialization and
 * data order), with a verdict on a claim of the paper and the line that states it.
 *
 * @module
 */
import {
  type Interval,
  intervalText,
  signed,
  tInterval,
  type Verdict,
  verdictOf,
} from "../../core/report/mod.ts";
import type { StudentOutcome } from "./distill_report.ts";

/** The values of a student a comparison can be on. */
export type OutcomeValue = "finalCE" | "tailKD" | "instability";

/** A paired comparison of two students over the seeds both finished. */
export interface Comparison {
  /** value(a) − value(b) per seed (same seed: same initialization and data order). */
  perSeed: { seed: number; diff: number }[];
  /** Their mean with its 95 % paired t interval (n − 1 degrees of freedom). */
  diff: Interval;
  /**
   * Of the claim that a has the lower value: `agree` / `disagree` only when the interval
   * excludes 0, else `inconclusive` (and `no data` without a common seed).
   */
  verdict: Verdict;
}

/**
 * Compares students `a` and `b` seed by seed (paired) on `value`, the claim being that `a` is
 * lower (better).
 *
 * @example
 * ```ts
 * import { compare } from "./distill_comparison.ts";
 * const row = (name: string, seed: number, finalCE: number) =>
 *   ({ name, seed, finalCE, finalStep: 1, meanAlpha: null, tailCE: null, tailKD: null, instability: null });
 * const rows = [3.0, 3.1, 3.05].flatMap((ce, i) => [row("a", i, ce), row("b", i, ce + 0.2)]);
 * const c = compare(rows, "a", "b");
 * console.assert(c.verdict === "agree" && c.diff.n === 3 && c.diff.hi < 0);
 * ```
 */
export function compare(
  rows: StudentOutcome[],
  a: string,
  b: string,
  value: OutcomeValue = "finalCE",
): Comparison {
  const of = (name: string, seed: number) =>
    rows.find((r) => r.name === name && r.seed === seed)?.[value] ?? null;
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const perSeed = seeds.flatMap((seed) => {
    const [x, y] = [of(a, seed), of(b, seed)];
    return x !== null && y !== null ? [{ seed, diff: x - y }] : [];
  });
  const diff = tInterval(perSeed.map((d) => d.diff));
  return { perSeed, diff, verdict: verdictOf(diff, -1) };
}

/**
 * One line stating whether the numbers agree with a claim of the paper.
 *
 * @param claim The paper's words.
 * @param c The comparison (a = the side the claim favours).
 * @param a What a is, in words.
 * @param b What b is, in words.
 * @param what What was compared (default: final validation CE).
 * @returns Markdown: the verdict, the paired difference, its interval and why the verdict.
 *
 * @example
 * ```ts
 * import { claimLine } from "./distill_comparison.ts";
 * const diff = { mean: -0.02, std: 0.005, n: 3, level: 0.95, df: 2, lo: -0.032, hi: -0.008 };
 * const c = { perSeed: [], diff, verdict: "agree" as const };
 * console.assert(claimLine("combined beats alternating", c, "combined", "alternating").includes("**agree**"));
 * ```
 */
export function claimLine(
  claim: string,
  c: Comparison,
  a: string,
  b: string,
  what = "nats/token of final validation CE",
): string {
  if (c.verdict === "no data") {
    return `**Paper claim** “${claim}”: no finished pair of runs to compare yet.`;
  }
  const n = c.diff.n;
  const why = n < 2
    ? "one seed gives no interval: run at least 3"
    : c.verdict === "agree"
    ? "the whole interval is below 0"
    : c.verdict === "disagree"
    ? "the whole interval is above 0"
    : "the interval contains 0: these seeds do not settle it";
  const interval = n < 2
    ? ""
    : `, 95 % interval [${signed(c.diff.lo)}, ${
      signed(c.diff.hi)
    }] (paired t, ${c.diff.df} d.o.f.)`;
  return `**Paper claim** “${claim}”: **${c.verdict}** — ${a} minus ${b}: ${
    signed(c.diff.mean)
  } ${what} over ${n} seed${n === 1 ? "" : "s"}${interval}; ${why}.`;
}

/** A comparison as a table cell: the mean difference and its interval. */
export function comparisonCell(c: Comparison): string {
  return c.diff.n === 0 ? "–" : intervalText(c.diff);
}
