import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { matMul, mul, reduceSum } from "../../../core/graph/mod.ts";
import {
  type AdamWConfig,
  buildAccumulationSteps,
  buildGradientStep,
  buildTrainingStep,
  HostAdamWStep,
} from "../../../core/optim/mod.ts";
import { openCpu } from "../../../core/runtime/mod.ts";
import { rng } from "../../_support/grad_check.ts";
import { openTrainer } from "../../_support/ort_train.ts";

const CFG: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clipNorm: 0.5 };

/** Float64 PyTorch-style AdamW step with global-norm clipping. */
function referenceStep(
  params: Map<string, number[]>,
  grads: Map<string, number[]>,
  state: Map<string, { m: number[]; v: number[] }>,
  decay: Set<string>,
  lr: number,
  t: number,
): void {
  const norm = Math.sqrt([...grads.values()].flat().reduce((a, g) => a + g * g, 0));
  const coef = Math.min(1, CFG.clipNorm / (norm + 1e-6));
  for (const [name, p] of params) {
    const s = state.get(name) ?? { m: p.map(() => 0), v: p.map(() => 0) };
    state.set(name, s);
    p.forEach((x, i) => {
      const g = grads.get(name)![i]! * coef;
      s.m[i] = CFG.beta1 * s.m[i]! + (1 - CFG.beta1) * g;
      s.v[i] = CFG.beta2 * s.v[i]! + (1 - CFG.beta2) * g * g;
      const mh = s.m[i]! / (1 - CFG.beta1 ** t), vh = s.v[i]! / (1 - CFG.beta2 ** t);
      const decayed = decay.has(name) ? x * (1 - lr * CFG.weightDecay) : x;
      p[i] = decayed - (lr * mh) / (Math.sqrt(vh) + CFG.eps);
    });
  }
}

// L = Σ (x·W)² + Σ b²  ⇒  dW = 2 xᵀ(xW), db = 2b
const X = [0.5, -1, 2, 1.5, 0.25, -0.75];
function quadratic(g: import("../../../core/graph/mod.ts").Graph) {
  const x = g.constant(Float32Array.from(X), [2, 3]);
  const w = g.parameter("w", [3, 2], Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5, 0.6));
  const b = g.parameter("b", [2], Float32Array.of(1, -2));
  const y = matMul(x, w);
  return g.node("Add", [reduceSum(mul(y, y)), reduceSum(mul(b, b))], {})[0]!;
}
function build() {
  return buildTrainingStep("quad", quadratic, CFG);
}

function referenceGrads(w: number[], b: number[]): Map<string, number[]> {
  const y = [0, 1].flatMap((r) =>
    [0, 1].map((c) => [0, 1, 2].reduce((a, k) => a + X[r * 3 + k]! * w[k * 2 + c]!, 0))
  );
  const dw = [0, 1, 2].flatMap((k) =>
    [0, 1].map((c) => 2 * (X[k]! * y[c]! + X[3 + k]! * y[2 + c]!))
  );
  return new Map([["w", dw], ["b", b.map((v) => 2 * v)]]);
}

Deno.test("the in-graph AdamW step matches a float64 AdamW with clipping and no decay on biases", async () => {
  const step = build();
  const trainer = await openTrainer(step);
  const params = new Map([["w", [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]], ["b", [1, -2]]]);
  const state = new Map<string, { m: number[]; v: number[] }>();
  for (let t = 1; t <= 5; t++) {
    const lr = 0.05 * t;
    const out = await trainer.run({}, lr, t);
    const grads = referenceGrads(params.get("w")!, params.get("b")!);
    const norm = Math.sqrt([...grads.values()].flat().reduce((a, g) => a + g * g, 0));
    assert.ok(
      Math.abs(out.grad_norm! - norm) < 1e-4 * norm,
      `grad norm ${out.grad_norm} vs ${norm}`,
    );
    referenceStep(params, grads, state, new Set(["w"]), lr, t);
    for (const [name, want] of params) {
      const got = trainer.state.get(name)!.data as Float32Array;
      want.forEach((v, i) =>
        assert.ok(Math.abs(got[i]! - v) < 1e-5, `step ${t} ${name}[${i}]: ${got[i]} vs ${v}`)
      );
    }
  }
  await trainer.release();
});

Deno.test("AdamW on the host matches the same float64 AdamW and holds the in-graph step's state names", async () => {
  const graph = buildGradientStep("quad", quadratic);
  const step = await HostAdamWStep.create(await openCpu({ threads: 1 }), graph, CFG);
  const params = new Map([["w", [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]], ["b", [1, -2]]]);
  const state = new Map<string, { m: number[]; v: number[] }>();
  for (let t = 1; t <= 5; t++) {
    const lr = 0.05 * t;
    const grads = referenceGrads(params.get("w")!, params.get("b")!);
    const out = await step.run({ lr, step: t });
    const norm = Math.sqrt([...grads.values()].flat().reduce((a, g) => a + g * g, 0));
    const gotNorm = Number(out.outputs.grad_norm!.data[0]);
    assert.ok(Math.abs(gotNorm - norm) < 1e-4 * norm, `grad norm ${gotNorm} vs ${norm}`);
    referenceStep(params, grads, state, new Set(["w"]), lr, t);
    const held = await step.readState();
    for (const [name, want] of params) {
      want.forEach((v, i) =>
        assert.ok(Math.abs(Number(held[name]!.data[i]) - v) < 1e-5, `step ${t} ${name}[${i}]`)
      );
      state.get(name)!.v.forEach((v, i) =>
        assert.ok(Math.abs(Number(held[`${name}.adam_v`]!.data[i]) - v) < 1e-5 * (1 + v))
      );
    }
  }
  // The graph's initial values are left as built: the step updates its own copy.
  assert.deepEqual([...graph.initialState.get("b")!], [1, -2]);
  assert.deepEqual(step.stateNames().sort(), [...build().bindings.map((b) => b.input)].sort());
  await step.dispose();
});

Deno.test("accumulating two micro-batches then applying equals one step on the whole batch", async () => {
  const r = rng(4);
  const data = Float32Array.from({ length: 4 * 3 }, () => r() * 2 - 1);
  const loss = (rows: number) => (g: import("../../../core/graph/mod.ts").Graph) => {
    const x = g.input("x", "float32", [rows, 3]);
    const w = g.parameter("w", [3, 2], Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5, 0.6));
    const y = matMul(x, w);
    return mul(reduceSum(mul(y, y)), 1 / rows); // mean over rows
  };
  const whole = await openTrainer(buildTrainingStep("whole", loss(4), CFG));
  await whole.run({ x: new ort.Tensor("float32", data, [4, 3]) }, 0.1, 1);
  const { accumulate, apply } = buildAccumulationSteps("acc", loss(2), CFG, 2);
  const acc = await openTrainer(accumulate);
  const app = await openTrainer(apply, acc.state);
  for (const half of [0, 1]) {
    await acc.run(
      { x: new ort.Tensor("float32", data.slice(half * 6, half * 6 + 6), [2, 3]) },
      0.1,
      1,
    );
  }
  await app.run({}, 0.1, 1);
  const a = whole.state.get("w")!.data as Float32Array,
    b = acc.state.get("w")!.data as Float32Array;
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-6, `w[${i}] ${v} vs ${b[i]}`));
  const zeroed = acc.state.get("w.grad_acc")!.data as Float32Array;
  assert.ok(zeroed.every((v) => v === 0), "accumulators are zeroed after apply");
  for (const t of [whole, acc, app]) await t.release();
});

Deno.test("a frozen parameter is fed but gets no gradient, no optimizer state and no update", () => {
  const step = buildTrainingStep("frozen", (g) => {
    const x = g.input("x", "float32", [2, 3]);
    const w = g.parameter("w", [3, 2], new Float32Array(6).fill(0.1));
    const f = g.parameter("f", [2, 1], Float32Array.of(1, 2), { trainable: false });
    return reduceSum(matMul(matMul(x, w), f));
  }, CFG);
  assert.deepEqual(step.bindings.map((b) => b.input).sort(), ["w", "w.adam_m", "w.adam_v"]);
  assert.ok(step.graph.inputs.every((t) => !t.name.startsWith("f.")));
  assert.ok(step.graph.outputs.every((t) => !t.name.startsWith("f")));
});
