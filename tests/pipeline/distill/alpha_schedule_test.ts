import assert from "node:assert/strict";
import { InvalidRequest } from "../../../core/job/mod.ts";
import {
  AlphaController,
  type AlphaRule,
  alphaWindow,
  dwaAlpha,
  paperAlpha,
  parseAlpha,
  parseSchedule,
} from "../../../pipeline/distill/alpha_schedule.ts";
import { visitAlphas } from "../../../pipeline/distill/alternation.ts";
import { rng } from "../../_support/grad_check.ts";

const K = 20;
/** A history of `n` values from `start` changing by the factor `1 + rate` per step. */
const geometric = (start: number, rate: number, n = K) =>
  Array.from({ length: n }, (_, i) => start * (1 + rate) ** i);
/** A history of `n` values from `start` changing by `slope` per step. */
const linear = (start: number, slope: number, n = K) =>
  Array.from({ length: n }, (_, i) => start + slope * i);

Deno.test("alphaWindow() is max(20, ⌊steps / 100⌋)", () => {
  assert.deepEqual([1, 2000, 2099, 2100, 100_000].map(alphaWindow), [20, 20, 20, 21, 1000]);
});

Deno.test("paperAlpha() is exactly ½ whenever both losses fall, at any rates (its defect)", () => {
  for (const [a, b] of [[-0.001, -0.3], [-0.2, -0.0001], [-0.05, -0.05]]) {
    assert.equal(paperAlpha(geometric(6, a!), geometric(2, b!), K), 0.5);
  }
});

Deno.test("paperAlpha() follows its formula when one loss rises", () => {
  // CE rises 4 → 4 + 19·0.01, KD falls: w_CE = 1 − 0.19/mean(CE), w_KD = 1.
  const ce = linear(4, 0.01), kd = linear(3, -0.05);
  const mean = ce.reduce((a, b) => a + b) / K;
  const wCE = 1 - 0.19 / mean;
  assert.ok(Math.abs(paperAlpha(ce, kd, K) - wCE / (wCE + 1)) < 1e-12);
  // The rising loss gets *less* weight than ½ under the paper's rule.
  assert.ok(paperAlpha(ce, kd, K) < 0.5 && paperAlpha(kd, ce, K) > 0.5);
});

Deno.test("paperAlpha() returns ½ instead of 0/0 when both losses rise by ≥ 100 %", () => {
  // Both jump from 1 to 40 in the last step: change/mean = 39/2.95 > 1, so both weights are 0.
  const jump = [...Array(K - 1).fill(1), 40];
  assert.equal(paperAlpha(jump, jump.map((x) => 2 * x), K), 0.5);
});

Deno.test("paperAlpha() and dwaAlpha() are ½ before a full window and for flat losses", () => {
  const short = linear(5, -0.1, K - 1);
  assert.equal(paperAlpha(short, short, K), 0.5);
  assert.equal(dwaAlpha(short, linear(2, -0.5, K - 1), K), 0.5);
  assert.equal(paperAlpha(linear(5, 0), linear(2, 0), K), 0.5);
  assert.equal(dwaAlpha(linear(5, 0), linear(2, 0), K), 0.5);
  assert.equal(dwaAlpha(linear(0, 0), linear(0, 0), K), 0.5);
});

Deno.test("dwaAlpha() weighs the loss that falls more slowly when both fall", () => {
  const slowCE = dwaAlpha(geometric(6, -0.001), geometric(2, -0.02), K);
  const slowKD = dwaAlpha(geometric(6, -0.02), geometric(2, -0.001), K);
  assert.ok(slowCE > 0.8 && slowKD < 0.2, `${slowCE} ${slowKD}`);
  // Same relative rate, different scales (nats vs τ²·nats): balanced.
  assert.ok(Math.abs(dwaAlpha(geometric(6, -0.01), geometric(0.5, -0.01), K) - 0.5) < 1e-12);
  // Closer rates, milder response: monotone in the difference.
  const mild = dwaAlpha(geometric(6, -0.008), geometric(2, -0.012), K);
  assert.ok(mild > 0.5 && mild < slowCE, `${mild}`);
});

Deno.test("dwaAlpha() weighs a rising loss more, and stays in [0.05, 0.95]", () => {
  const a = dwaAlpha(linear(4, 0.05), linear(3, -0.05), K);
  assert.ok(a > 0.5 && a <= 0.95, `${a}`);
  assert.equal(dwaAlpha(geometric(4, 0.5), geometric(3, -0.5), K), 0.95);
  assert.equal(dwaAlpha(geometric(4, -0.5), geometric(3, 0.5), K), 0.05);
  // Both rising (the paper's 0/0 case) is an ordinary case here.
  const jump = [...Array(K - 1).fill(1), 40];
  assert.ok(Number.isFinite(dwaAlpha(jump, jump.map((x) => 3 * x), K)));
});

Deno.test("AlphaController gives a NaN-free α in [0, 1] on noisy, degenerate and NaN losses", () => {
  const r = rng(5);
  for (const rule of [{ kind: "paper" }, { kind: "dwa", temperature: 0.1 }] as AlphaRule[]) {
    const c = new AlphaController(rule, 500);
    for (let step = 1; step <= 200; step++) {
      const a = c.alpha(step);
      assert.ok(a >= 0 && a <= 1, `${rule.kind} step ${step}: ${a}`);
      const phase = Math.floor(step / 50);
      // Noisy falling, exact zeros, negative rounding noise, then NaN/∞ steps.
      const ce = [5 - step / 100 + r(), 0, -1e-7, NaN][phase % 4]!;
      const kd = [2 - step / 200 + r(), 0, 1e-7, Infinity][phase % 4]!;
      c.observe(ce, kd);
    }
    assert.ok(c.state().ce.every(Number.isFinite));
  }
});

Deno.test("AlphaController state() and restore() round-trip through JSON to the same α", () => {
  const r = rng(9);
  for (const rule of [{ kind: "paper" }, { kind: "dwa", temperature: 0.1 }] as AlphaRule[]) {
    const a = new AlphaController(rule, 3000); // window 30
    for (let step = 1; step <= 45; step++) a.observe(4 + r() - step / 20, 2 + r() * step / 30);
    const b = new AlphaController(rule, 3000);
    b.restore(JSON.parse(JSON.stringify(a.state())));
    assert.equal(a.state().ce.length, 30);
    assert.equal(b.alpha(46), a.alpha(46));
    assert.notEqual(a.alpha(46), 0.5);
    for (const c of [a, b]) c.observe(3, 5);
    assert.equal(b.alpha(47), a.alpha(47));
  }
  const c = new AlphaController({ kind: "paper" }, 100);
  assert.throws(() => c.restore({ ce: [1, 2], kd: [1] }), RangeError);
  assert.throws(() => c.restore(JSON.parse("null")), /ce and kd must be arrays/);
});

Deno.test("AlphaController with a fixed rule always gives that α", () => {
  const c = new AlphaController({ kind: "fixed", alpha: 0.3 }, 10);
  for (let i = 1; i < 50; i++) c.observe(10 - i, i);
  assert.equal(c.alpha(50), 0.3);
  assert.throws(() => new AlphaController({ kind: "fixed", alpha: 1.5 }, 10), RangeError);
  assert.throws(() => c.alpha(0), RangeError);
});

Deno.test("visitAlphas() alternates CE-only odd visits and KD-only even visits of a class", () => {
  const alt = (v: number) => visitAlphas("alternating", "step", v, 0.4);
  assert.deepEqual([1, 2, 3, 4].map(alt), [[1], [0], [1], [0]]);
  assert.deepEqual([1, 2].map((v) => visitAlphas("combined", "step", v, 0.4)), [[0.4], [0.4]]);
});

Deno.test("parseAlpha() reads numbers in [0, 1], adaptive and dwa, and names them on error", () => {
  assert.deepEqual(parseAlpha("0.5"), { kind: "fixed", alpha: 0.5 });
  assert.deepEqual(parseAlpha("1"), { kind: "fixed", alpha: 1 });
  assert.deepEqual(parseAlpha(".25"), { kind: "fixed", alpha: 0.25 });
  assert.deepEqual(parseAlpha("adaptive"), { kind: "paper" });
  assert.equal(parseAlpha("DWA").kind, "dwa");
  for (const bad of ["1.5", "-0.1", "", "0x1", "half", "NaN", "1e3"]) {
    assert.throws(
      () => parseAlpha(bad),
      (e: unknown) =>
        e instanceof InvalidRequest && e.option === "alpha" &&
        e.message.includes(`"${bad}"`) &&
        /number in \[0, 1\], "adaptive" .* or "dwa"/.test(e.message),
      bad,
    );
  }
  assert.equal(parseSchedule("combined"), "combined");
  assert.throws(() => parseSchedule("both"), {
    name: "InvalidRequest",
    option: "lossSchedule",
    message: 'Invalid lossSchedule "both": expected "combined" or "alternating"',
  });
});
