import assert from "node:assert/strict";
import {
  stats,
  studentTCdf,
  studentTQuantile,
  tInterval,
  verdictOf,
} from "../../../core/report/stats.ts";

/** Closed forms of t_{p, ν} (float64): ν = 1 (Cauchy), ν = 2, ν = 4 (Hill 1970). */
function closedForm(p: number, df: 1 | 2 | 4): number {
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const a = 4 * p * (1 - p), q = Math.cos(Math.acos(Math.sqrt(a)) / 3) / Math.sqrt(a);
  return Math.sign(p - 0.5) * 2 * Math.sqrt(q - 1);
}

Deno.test("studentTQuantile() matches the closed forms for 1, 2 and 4 degrees of freedom to 1e-12", () => {
  for (const df of [1, 2, 4] as const) {
    for (const p of [0.6, 0.9, 0.95, 0.975, 0.995, 0.025]) {
      const want = closedForm(p, df), got = studentTQuantile(p, df);
      assert.ok(
        Math.abs(got - want) <= 1e-12 * Math.abs(want),
        `df ${df} p ${p}: ${got} vs ${want}`,
      );
    }
  }
  // The table values everyone checks against.
  assert.equal(studentTQuantile(0.975, 2).toFixed(3), "4.303");
  assert.equal(studentTQuantile(0.975, 4).toFixed(3), "2.776");
});

Deno.test("studentTQuantile() matches published t tables for other degrees of freedom", () => {
  // Abramowitz & Stegun table 26.10, two-sided 95 % (p = 0.975), to 6 significant digits.
  const table: [number, number][] = [[3, 3.18245], [5, 2.57058], [9, 2.26216], [10, 2.22814], [
    30,
    2.04227,
  ], [120, 1.97993]];
  for (const [df, t] of table) {
    assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 5e-6, `df ${df}`);
  }
  assert.ok(Math.abs(studentTQuantile(0.975, 1e6) - 1.959964) < 1e-5, "→ the normal quantile");
  assert.throws(() => studentTQuantile(1, 3), RangeError);
  assert.throws(() => studentTQuantile(0.5, 0), RangeError);
});

Deno.test("studentTCdf() is the inverse of the quantile and symmetric about 0", () => {
  for (const df of [1, 2, 3.5, 7]) {
    for (const t of [-3, -0.4, 0.2, 1, 5]) {
      const p = studentTCdf(t, df);
      assert.ok(Math.abs(p + studentTCdf(-t, df) - 1) < 1e-14);
      assert.ok(Math.abs(studentTQuantile(p, df) - t) < 1e-9 * Math.max(1, Math.abs(t)));
    }
  }
  assert.ok(Math.abs(studentTCdf(1, 1) - 0.75) < 1e-14); // Cauchy: ½ + atan(1)/π
});

Deno.test("tInterval() of paired differences is mean ± t·s/√n, by hand", () => {
  // Differences −0.02, −0.05, −0.01 (3 seeds): mean −0.026̄, s = 0.020817, t_{0.975,2} = 4.302653.
  const d = [-0.02, -0.05, -0.01];
  const mean = (-0.02 - 0.05 - 0.01) / 3;
  const s = Math.sqrt(((-0.02 - mean) ** 2 + (-0.05 - mean) ** 2 + (-0.01 - mean) ** 2) / 2);
  const half = closedForm(0.975, 2) * s / Math.sqrt(3);
  const ci = tInterval(d);
  assert.equal(ci.mean, stats(d).mean);
  assert.equal(ci.df, 2);
  assert.ok(Math.abs(ci.lo - (mean - half)) < 1e-15 && Math.abs(ci.hi - (mean + half)) < 1e-15);
  assert.equal(ci.lo.toFixed(4), "-0.0784"); // so 0 lies inside: not enough seeds to tell
  assert.equal(ci.hi.toFixed(4), "0.0250");
  assert.equal(verdictOf(ci, -1), "inconclusive");
  // Five seeds with the same sign and little spread exclude 0 (t_{0.975,4} = 2.776).
  const five = tInterval([-0.02, -0.03, -0.025, -0.02, -0.03]);
  assert.ok(five.hi < 0);
  assert.equal(verdictOf(five, -1), "agree");
  assert.equal(verdictOf(five, 1), "disagree");
});

Deno.test("verdictOf() needs two seeds and an interval that excludes 0", () => {
  assert.equal(verdictOf(tInterval([]), -1), "no data");
  assert.equal(verdictOf(tInterval([-5]), -1), "inconclusive");
  assert.ok(Number.isNaN(tInterval([-5]).lo));
  assert.equal(verdictOf(tInterval([-1, -1]), -1), "agree"); // no spread: t · 0 = 0
  assert.equal(verdictOf(tInterval([0, 0, 0]), -1), "inconclusive");
});
