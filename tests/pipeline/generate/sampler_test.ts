import assert from "node:assert/strict";
import { argmax, GREEDY, Sampler, samplingDistribution } from "../../../pipeline/generate/mod.ts";
import { rng } from "../../_support/grad_check.ts";

/**
 * The float64 reference: softmax(l / T), sort everything by (p desc, index asc), keep the first
 * k, then the shortest prefix of mass ≥ p, renormalize.
 */
function reference(logits: number[], temperature: number, topK: number, topP: number): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp((l - max) / temperature));
  const z = e.reduce((a, b) => a + b, 0);
  let order = e.map((x, i) => ({ p: x / z, i })).sort((a, b) => b.p - a.p || a.i - b.i);
  if (topK > 0) order = order.slice(0, topK);
  const zk = order.reduce((a, o) => a + o.p, 0);
  order = order.map((o) => ({ p: o.p / zk, i: o.i }));
  const kept: typeof order = [];
  let mass = 0;
  for (const o of order) {
    kept.push(o);
    mass += o.p;
    if (mass >= topP) break;
  }
  const out = new Array<number>(logits.length).fill(0);
  for (const o of kept) out[o.i] = o.p / mass;
  return out;
}

function randomLogits(n: number, seed: number, scale = 3): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

Deno.test("samplingDistribution() matches a float64 full-sort reference for temperature, top-k and top-p", () => {
  const cases = [
    [1, 0, 1],
    [0.7, 0, 1],
    [1, 5, 1],
    [1, 0, 0.5],
    [1.3, 50, 0.9],
    [0.5, 3, 0.99],
    [1, 1000, 0.2],
  ] as const;
  for (const [i, [t, k, p]] of cases.entries()) {
    const logits = randomLogits(400, i + 1, 6);
    const got = samplingDistribution(logits, { temperature: t, topK: k, topP: p });
    const want = reference(logits, t, k, p);
    for (let j = 0; j < logits.length; j++) {
      assert.ok(
        Math.abs(got[j]! - want[j]!) < 1e-12,
        `case ${i} token ${j}: ${got[j]} vs ${want[j]}`,
      );
    }
    assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
});

Deno.test("top-p over a peaked 32 000-token distribution keeps exactly the reference nucleus", () => {
  // Most of the mass far below the maximum: the cutoff search has to go down several times.
  const logits = randomLogits(32_000, 9, 1);
  logits[5] = 4;
  const got = samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.95 });
  const want = reference(logits, 1, 0, 0.95);
  assert.equal(got.filter((x) => x > 0).length, want.filter((x) => x > 0).length);
  for (let j = 0; j < logits.length; j++) assert.ok(Math.abs(got[j]! - want[j]!) < 1e-12);
});

Deno.test("top-k keeps the lower indices among tied logits", () => {
  const p = samplingDistribution([1, 2, 2, 2, 0], { temperature: 1, topK: 2, topP: 1 });
  assert.deepEqual(Array.from(p), [0, 0.5, 0.5, 0, 0]);
});

Deno.test("greedy, top-k 1 and a tiny top-p all pick the argmax", () => {
  const logits = randomLogits(300, 4);
  const best = argmax(logits);
  assert.equal(new Sampler(GREEDY).next(logits), best);
  for (let seed = 0; seed < 20; seed++) {
    assert.equal(new Sampler({ temperature: 1, topK: 1, topP: 1, seed }).next(logits), best);
    assert.equal(new Sampler({ temperature: 1, topK: 0, topP: 1e-9, seed }).next(logits), best);
  }
});

Deno.test("the same seed draws the same tokens and different seeds draw different ones", () => {
  const logits = randomLogits(1000, 5, 1);
  const draw = (seed: number) => {
    const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed });
    return Array.from({ length: 50 }, () => s.next(logits));
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

Deno.test("draws follow the sampling distribution (frequencies within 4 standard errors)", () => {
  const logits = [2, 1, 0.5, 0, -1, -3];
  const options = { temperature: 0.8, topK: 5, topP: 0.97, seed: 123 };
  const p = samplingDistribution(logits, options);
  const s = new Sampler(options), n = 40_000;
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[s.next(logits)]!++;
  for (let j = 0; j < logits.length; j++) {
    const se = Math.sqrt((p[j]! * (1 - p[j]!)) / n);
    assert.ok(
      Math.abs(counts[j]! / n - p[j]!) <= 4 * se + 1e-12,
      `token ${j}: ${counts[j]! / n} vs ${p[j]}`,
    );
  }
  assert.equal(counts[5], 0, "filtered tokens are never drawn");
});

Deno.test("invalid sampling options are RangeErrors that name the option", () => {
  assert.throws(() => new Sampler({ ...GREEDY, temperature: -1 }), /temperature -1/);
  assert.throws(() => new Sampler({ ...GREEDY, topK: 1.5 }), /top-k 1.5/);
  assert.throws(() => new Sampler({ ...GREEDY, topP: 0 }), /top-p 0/);
  assert.throws(
    () => samplingDistribution([0, NaN], { temperature: 1, topK: 0, topP: 1 }),
    /logit 1 is NaN/,
  );
});
