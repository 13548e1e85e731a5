import assert from "node:assert/strict";
import {
  DEFAULT_LOGISTIC,
  logisticLossAndGradient,
  trainLogistic,
} from "../../../core/routing/logistic.ts";
import type { SparseVector } from "../../../core/routing/sparse.ts";
import { seededRandom } from "../../../core/routing/windows.ts";

function randomData(n: number, dim: number, k: number, seed: number) {
  const rand = seededRandom(seed);
  const xs: SparseVector[] = [];
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const idx = [...new Set([0, 1, 2].map(() => Math.floor(rand() * dim)))].sort((a, b) => a - b);
    xs.push({ indices: Int32Array.from(idx), values: Float32Array.from(idx, () => rand()) });
    ys[i] = Math.floor(rand() * k);
  }
  return { xs, ys };
}

/** Float64 reference of the objective, written independently of the implementation. */
function referenceLoss(
  theta: Float64Array,
  xs: SparseVector[],
  ys: Int32Array,
  k: number,
  l2: number,
) {
  const dimK = theta.length - k;
  let loss = 0;
  xs.forEach((x, n) => {
    const s = Array.from({ length: k }, (_, c) => {
      let v = theta[dimK + c]!;
      x.indices.forEach((j, t) => v += x.values[t]! * theta[j * k + c]!);
      return v;
    });
    const lse = Math.log(s.reduce((a, v) => a + Math.exp(v), 0));
    loss += (lse - s[ys[n]!]!) / xs.length;
  });
  let reg = 0;
  for (let j = 0; j < dimK; j++) reg += theta[j]! ** 2;
  return loss + 0.5 * l2 * reg;
}

for (const k of [3, 4]) {
  Deno.test(`logisticLossAndGradient() matches a float64 reference and finite differences (${k} classes)`, () => {
    const dim = 6;
    const { xs, ys } = randomData(20, dim, k, 3);
    const rand = seededRandom(9);
    const theta = Float64Array.from({ length: dim * k + k }, () => rand() - 0.5);
    const grad = new Float64Array(theta.length);
    const l2 = 0.1;
    const loss = logisticLossAndGradient(theta, grad, xs, ys, k, l2);
    assert.ok(Math.abs(loss - referenceLoss(theta, xs, ys, k, l2)) < 1e-12);
    const eps = 1e-6;
    for (let i = 0; i < theta.length; i++) {
      const plus = Float64Array.from(theta), minus = Float64Array.from(theta);
      plus[i]! += eps;
      minus[i]! -= eps;
      const fd = (referenceLoss(plus, xs, ys, k, l2) - referenceLoss(minus, xs, ys, k, l2)) /
        (2 * eps);
      assert.ok(Math.abs(fd - grad[i]!) < 1e-7, `component ${i}: ${fd} vs ${grad[i]}`);
    }
  });
}

Deno.test("trainLogistic() converges to a point where the gradient vanishes", () => {
  const k = 3, dim = 8;
  const { xs, ys } = randomData(60, dim, k, 5);
  const l2 = 0.05;
  const { model, report } = trainLogistic(xs, ys, k, dim, {
    ...DEFAULT_LOGISTIC,
    l2,
    tolerance: 1e-12,
  });
  assert.ok(report.converged);
  const theta = Float64Array.from([...model.weights, ...model.bias]);
  const grad = new Float64Array(theta.length);
  logisticLossAndGradient(theta, grad, xs, ys, k, l2);
  // Weights are stored as float32, so the gradient is only as small as that rounding allows.
  assert.ok(Math.max(...grad.map(Math.abs)) < 1e-5);
});
