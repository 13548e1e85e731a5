import assert from "node:assert/strict";
import { decideRoute, expertPosterior, PRIOR_FLOOR } from "../../../core/routing/mod.ts";

/** The posterior written the long way, for log-likelihoods small enough for `exp`. */
function directPosterior(ll: Record<string, number>, prior: Record<string, number>) {
  const joint = Object.fromEntries(Object.keys(ll).map((k) => [k, prior[k]! * Math.exp(ll[k]!)]));
  const sum = Object.values(joint).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(joint).map(([k, v]) => [k, v / sum]));
}

Deno.test("the posterior is prior × likelihood normalized, in float64", () => {
  const ll = { en: -3.2, fr: -4.1, de: -2.9, py: -7.5 };
  const prior = { en: 0.4, fr: 0.3, de: 0.2, py: 0.1 };
  const got = expertPosterior(ll, prior), want = directPosterior(ll, prior);
  for (const k of Object.keys(ll)) assert.ok(Math.abs(got[k]! - want[k]!) < 1e-15, k);
  const uniform = expertPosterior(ll);
  const wantUniform = directPosterior(ll, { en: 1, fr: 1, de: 1, py: 1 });
  for (const k of Object.keys(ll)) assert.ok(Math.abs(uniform[k]! - wantUniform[k]!) < 1e-15, k);
});

Deno.test("a prompt's log-likelihood of hundreds of nats neither underflows nor changes the answer", () => {
  const small = { en: -2, fr: -3 }, large = { en: -902, fr: -903 };
  assert.deepEqual(expertPosterior(large), expertPosterior(small));
  const p = expertPosterior({ en: -5000, fr: -5100 });
  assert.equal(p.en, 1);
  assert.ok(p.fr! >= 0 && p.fr! < 1e-40);
});

Deno.test("a zero prior is floored: overwhelming evidence still wins", () => {
  const p = expertPosterior({ en: -100, py: -10 }, { en: 1, py: 0 });
  assert.ok(p.py! > 0.99, `${p.py}`);
  const q = expertPosterior({ en: -100, py: -100 }, { en: 1, py: 0 });
  assert.ok(Math.abs(q.py! - PRIOR_FLOOR) < 1e-15);
});

Deno.test("the three rules decide as their names say", () => {
  const router = { en: 0.6, fr: 0.3, py: 0.1 };
  const ll = { en: -50, fr: -49, py: -60 };
  const r = decideRoute("router", router, ll, 1);
  assert.deepEqual(r, { best: "en", probabilities: router });
  assert.equal(decideRoute("likelihood", router, ll, 1).best, "fr");
  // 1 nat ≈ ×2.7 for fr against a prior 2× in favour of en: fr wins.
  const c = decideRoute("combined", router, ll, 1);
  assert.equal(c.best, "fr");
  const want = directPosterior({ en: 0, fr: 1, py: -10 }, router);
  for (const k of Object.keys(router)) {
    assert.ok(Math.abs(c.probabilities[k]! - want[k]!) < 1e-15, k);
  }
});

Deno.test("combined weighs the router against the per-token log-likelihood, so a longer prompt does not outweigh it", () => {
  const router = { en: 0.6, fr: 0.3, py: 0.1 };
  // fr predicts 10 tokens 0.1 nat/token better: 1 nat in all, ×2.7 — summed it would beat the
  // prior's ×2; per token (×1.1) it does not.
  const ll = { en: -50, fr: -49, py: -60 };
  const c = decideRoute("combined", router, ll, 10);
  assert.equal(c.best, "en");
  const want = directPosterior({ en: -5, fr: -4.9, py: -6 }, router);
  for (const k of Object.keys(router)) {
    assert.ok(Math.abs(c.probabilities[k]! - want[k]!) < 1e-15, k);
  }
  // The same per-token gap over 10 times the tokens decides the same way.
  const longer = Object.fromEntries(Object.entries(ll).map(([k, v]) => [k, 10 * v]));
  assert.deepEqual(decideRoute("combined", router, longer, 100), c);
  // likelihood keeps the summed evidence: its posterior is the product of the tokens'.
  assert.equal(decideRoute("likelihood", router, ll, 10).best, "fr");
});

Deno.test("no expert or a NaN score is refused", () => {
  assert.throws(() => expertPosterior({}), /none was scored/);
  assert.throws(() => expertPosterior({ en: NaN }), /"en" scored NaN/);
});
