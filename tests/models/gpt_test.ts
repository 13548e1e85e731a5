import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { GRAD_RULES, NON_DIFFERENTIABLE } from "../../core/autodiff/mod.ts";
import {
  buildGPTInference,
  buildGPTTraining,
  GPT_CONFIGS,
  gptConfig,
  initGPT,
} from "../../models/gpt.ts";
import { int64 } from "../_support/ort_train.ts";

const TINY = GPT_CONFIGS.tiny;

Deno.test("every op the GPT training graph emits, dropout included, has a gradient rule or is non-differentiable", () => {
  const step = buildGPTTraining({ ...TINY, dropout: 0.1 }, { batch: 1, seqLen: 8 });
  const known = new Set<string>([...GRAD_RULES.map((r) => r.op), ...NON_DIFFERENTIABLE]);
  // The backward and optimizer nodes (ScatterND, Pad, Min…) are never differentiated themselves.
  const forward = step.graph.nodes.filter((n) =>
    !n.name.includes("/grad/") && !n.name.startsWith("adamw/")
  );
  const missing = [...new Set(forward.map((n) => n.op))].filter((op) => !known.has(op));
  assert.deepEqual(missing, []);
});

Deno.test("the GPT inference graph gives logits of shape [B, T, V] whose next-token picks are finite", async () => {
  const cfg = gptConfig({ ...TINY, layers: 1 });
  const model = buildGPTInference(cfg, { batch: 2, seqLen: 5, values: initGPT(cfg, 3) });
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
  const out = await session.run({ tokens: int64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5]) });
  assert.deepEqual(out.logits!.dims, [2, 5, 256]);
  assert.ok((out.logits!.data as Float32Array).every(Number.isFinite));
  await session.release();
});

Deno.test("initGPT() draws N(0, 0.02) weights, scales residual projections by 1/√(2·layers) and zeroes biases", () => {
  const p = initGPT(GPT_CONFIGS.bench, 4);
  const std = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
  assert.ok(Math.abs(std(p.get("wte")!) - 0.02) < 2e-4);
  assert.ok(Math.abs(std(p.get("h1.mlp.fc.w")!) - 0.02) < 5e-4);
  assert.ok(Math.abs(std(p.get("h1.attn.proj.w")!) - 0.02 / Math.sqrt(8)) < 2e-4);
  assert.ok(
    p.get("h1.mlp.fc.b")!.every((x) => x === 0) && p.get("lnf.scale")!.every((x) => x === 1),
  );
  assert.deepEqual(
    initGPT(GPT_CONFIGS.tiny, 4).get("wpe"),
    initGPT(GPT_CONFIGS.tiny, 4).get("wpe"),
  );
});
