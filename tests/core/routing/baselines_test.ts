import assert from "node:assert/strict";
import { trainCentroid, trainNaiveBayes } from "../../../core/routing/baselines.ts";
import { fitTemperature } from "../../../core/routing/calibrate.ts";
import { probabilities } from "../../../core/routing/linear.ts";

const x = (pairs: [number, number][]) => ({
  indices: Int32Array.from(pairs.map((p) => p[0])),
  values: Float32Array.from(pairs.map((p) => p[1])),
});

Deno.test("trainNaiveBayes() computes smoothed log feature probabilities and log priors", () => {
  const xs = [x([[0, 2], [1, 1]]), x([[1, 3]]), x([[2, 1]])];
  const m = trainNaiveBayes(xs, Int32Array.of(0, 0, 1), 2, 3, 1);
  // Class 0 mass: [2, 4, 0], total 6; smoothing 1 over 3 features → denominators 9.
  assert.ok(Math.abs(m.weights[0 * 2 + 0]! - Math.log(3 / 9)) < 1e-6);
  assert.ok(Math.abs(m.weights[2 * 2 + 0]! - Math.log(1 / 9)) < 1e-6);
  // Class 1 mass: [0, 0, 1], total 1 → denominators 4.
  assert.ok(Math.abs(m.weights[2 * 2 + 1]! - Math.log(2 / 4)) < 1e-6);
  assert.ok(Math.abs(m.bias[0]! - Math.log(2 / 3)) < 1e-12);
});

Deno.test("trainCentroid() scores a vector highest for the class whose mean it resembles", () => {
  const xs = [x([[0, 1]]), x([[0, 0.8], [1, 0.2]]), x([[2, 1]])];
  const m = trainCentroid(xs, Int32Array.of(0, 0, 1), 2, 3);
  const p = probabilities(m, x([[0, 1]]));
  assert.ok(p[0]! > p[1]!);
});

Deno.test("fitTemperature() softens an over-confident model that is often wrong", () => {
  const m = {
    kind: "logistic" as const,
    classes: 2,
    weights: Float64Array.of(4, -4),
    bias: new Float64Array(2),
    temperature: 1,
  };
  const v = x([[0, 1]]);
  // Predicts class 0 with score gap 8 but only 3 of 4 labels are 0: T must grow well above 1.
  const t = fitTemperature(m, [v, v, v, v], Int32Array.of(0, 0, 0, 1));
  assert.ok(t > 2, `T = ${t}`);
  // At the optimum the calibrated probability matches the frequency 3/4.
  const p0 = 1 / (1 + Math.exp(-8 / t));
  assert.ok(Math.abs(p0 - 0.75) < 1e-3);
});
