/**
 * Summary statistics over repeated runs (seeds): mean and spread, Student-t confidence intervals
 * of a mean (paired differences of two settings run with the same seeds), and the verdict rule of
 * the studies — a claim is `agree` or `disagree` only when the interval excludes 0.
 *
 * @module
 */

/**
 * Mean and sample standard deviation (n − 1; 0 for one value).
 *
 * @example
 * ```ts
 * import { stats } from "./stats.ts";
 * const s = stats([1, 2, 3]);
 * console.assert(s.mean === 2 && s.std === 1);
 * ```
 */
export function stats(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean: n > 0 ? mean : NaN, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? tiny : d;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    for (
      const num of [
        (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
        -((a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
      ]
    ) {
      d = 1 + num * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-16) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), x in [0, 1]. */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(x, a, b)) / a
    : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/**
 * The cumulative distribution function of Student's t with `df` degrees of freedom:
 * `F(t) = 1 − ½·I_{df/(df+t²)}(df/2, ½)` for t ≥ 0, symmetric below.
 *
 * @example
 * ```ts
 * import { studentTCdf } from "./stats.ts";
 * console.assert(studentTCdf(0, 3) === 0.5);
 * console.assert(Math.abs(studentTCdf(1, 1) - 0.75) < 1e-14); // Cauchy: ½ + atan(1)/π
 * ```
 */
export function studentTCdf(t: number, df: number): number {
  if (t === 0) return 0.5;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (the inverse of
 * {@linkcode studentTCdf}, by bisection to double precision).
 *
 * @param p A probability in (0, 1).
 * @param df Degrees of freedom, > 0.
 * @throws {RangeError} When p or df is out of range.
 * @example
 * ```ts
 * import { studentTQuantile } from "./stats.ts";
 * console.assert(Math.abs(studentTQuantile(0.975, 2) - 4.302652729749464) < 1e-9);
 * console.assert(Math.abs(studentTQuantile(0.975, 4) - 2.7764451051977934) < 1e-9);
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) {
    throw new RangeError(`Cannot give the ${p}-quantile of t with ${df} degrees of freedom`);
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0, hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean over seeds with its two-sided Student-t confidence interval. */
export interface Interval {
  mean: number;
  /** Sample standard deviation (n − 1). */
  std: number;
  n: number;
  /** Confidence level of [lo, hi], e.g. 0.95. */
  level: number;
  /** Degrees of freedom n − 1 of the t quantile. */
  df: number;
  /** `mean ∓ t · std / √n`; NaN with fewer than 2 values (no spread to estimate). */
  lo: number;
  hi: number;
}

/**
 * The mean of `values` with its t confidence interval `mean ± t_{(1+level)/2, n−1} · s / √n`
 * (for paired differences: the paired t interval).
 *
 * @param values One value per seed.
 * @param level Confidence level (default 0.95).
 * @example
 * ```ts
 * import { tInterval } from "./stats.ts";
 * const ci = tInterval([1, 2, 3]); // mean 2, s 1, t_{0.975, 2} = 4.3027
 * console.assert(Math.abs(ci.hi - (2 + 4.302652729749464 / Math.sqrt(3))) < 1e-9);
 * ```
 */
export function tInterval(values: number[], level = 0.95): Interval {
  const { mean, std, n } = stats(values);
  const df = n - 1;
  const half = n > 1 ? studentTQuantile((1 + level) / 2, df) * std / Math.sqrt(n) : NaN;
  return { mean, std, n, level, df, lo: mean - half, hi: mean + half };
}

/** What the numbers say about a claim. */
export type Verdict = "agree" | "disagree" | "inconclusive" | "no data";

/**
 * The studies' verdict rule: a claim that predicts a difference of `sign` (e.g. −1: "a has the
 * lower loss") is `agree` when the whole interval lies on that side of 0, `disagree` when it lies
 * on the other side, and `inconclusive` when it contains 0 (or there are fewer than 2 seeds).
 *
 * @example
 * ```ts
 * import { verdictOf } from "./stats.ts";
 * const ci = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, std: 1, n: 3, level: 0.95, df: 2, lo, hi });
 * console.assert(verdictOf(ci(-3, -1), -1) === "agree");
 * console.assert(verdictOf(ci(-3, 1), -1) === "inconclusive");
 * console.assert(verdictOf(ci(1, 3), -1) === "disagree");
 * ```
 */
export function verdictOf(ci: Interval, sign: -1 | 1): Verdict {
  if (ci.n === 0) return "no data";
  if (!(ci.n > 1) || Number.isNaN(ci.lo) || Number.isNaN(ci.hi)) return "inconclusive";
  const [near, far] = sign < 0 ? [ci.hi, ci.lo] : [-ci.lo, -ci.hi];
  if (near < 0) return "agree";
  if (far > 0) return "disagree";
  return "inconclusive";
}
