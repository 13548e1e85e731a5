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
import { readFixtureText } from "../_support/fixture_text.ts";
import { int64, openTrainer } from "../_support/ort_train.ts";

const TINY = GPT_CONFIGS.tiny;

async function fixtureBatch(batch: number, seqLen: number) {
  const bytes = new TextEncoder().encode(await readFixtureText("en"));
  const tokens: number[] = [], targets: number[] = [];
  for (let b = 0; b < batch; b++) {
    const at = b * 997;
    for (let t = 0; t < seqLen; t++) {
      tokens.push(bytes[at + t]!);
      targets.push(bytes[at + t + 1]!);
    }
  }
  return { tokens, targets };
}

Deno.test("a 2-layer GPT overfits a fixture batch of UTF-8 bytes to near-zero loss", async () => {
  const batch = 4, seqLen = 32;
  const step = buildGPTTraining(TINY, { batch, seqLen, seed: 1 }, {
    beta1: 0.9,
    beta2: 0.99,
    eps: 1e-8,
    weightDecay: 0,
    clipNorm: 1,
  });
  const trainer = await openTrainer(step);
  const { tokens, targets } = await fixtureBatch(batch, seqLen);
  const data = { tokens: int64(tokens, [batch, seqLen]), targets: int64(targets, [batch, seqLen]) };
  const losses: number[] = [];
  for (let t = 1; t <= 200; t++) losses.push((await trainer.run(data, 1e-2, t)).loss!);
  await trainer.release();
  assert.ok(
    Math.abs(losses[0]! - Math.log(256)) < 0.3,
    `initial loss ${losses[0]} should be near ln 256`,
  );
  assert.ok(losses.at(-1)! < 0.05, `final loss ${losses.at(-1)}`);
});

Deno.test("every op the GPT training graph emits has a gradient rule or is non-differentiable", () => {
  const step = buildGPTTraining(TINY, { batch: 1, seqLen: 8 });
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
