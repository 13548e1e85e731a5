import assert from "node:assert/strict";
import { causalAttention } from "../../models/gpt_attention.ts";
import { gradients } from "../../core/autodiff/mod.ts";
import { Graph } from "../../core/graph/mod.ts";
import { gptConfig, gptLoss, RECOMPUTE_ATTENTION_ABOVE_BYTES } from "../../models/gpt.ts";
import { checkGradients } from "../_support/grad_check.ts";

Deno.test("recomputed causal attention's gradient matches finite differences (float64) and ONNX Runtime", async () => {
  // B 2, 3 heads, T 5, head size 4: q, kᵀ and v all receive the hand-written backward.
  const r = await checkGradients((g) => {
    const q = g.input("q", "float32", [2, 3, 5, 4]);
    const kT = g.input("kT", "float32", [2, 3, 4, 5]);
    const v = g.input("v", "float32", [2, 3, 5, 4]);
    const { y } = causalAttention(g, 5, null, true)(0, q, kT, v);
    assert.ok(g.customGradients.has(y.name));
    return { wrt: [q, kT, v], ys: [y] };
  }, 7);
  assert.equal(r.checked, 2 * 3 * 5 * 4 * 3);
  assert.ok(r.maxFdError < 1e-6, `finite differences: ${r.maxFdError}`);
  assert.ok(r.maxOrtError < 1e-5, `onnxruntime: ${r.maxOrtError}`);
});

/** Backward nodes of a GPT training graph that read a forward `[B, nh, T, T]` softmax. */
function probabilityReaders(T: number, heads: number, dropout: number) {
  const cfg = gptConfig({
    vocabSize: 11,
    contextLength: T,
    layers: 1,
    heads,
    dModel: heads,
    dropout,
  });
  const g = new Graph("gpt");
  const loss = gptLoss(cfg, { batch: 1, seqLen: T }, true)(g);
  const probabilities = new Set(
    g.nodes.filter((n) => n.op === "Softmax" && n.outputs[0]!.rank === 4).map((n) => n.outputs[0]!),
  );
  assert.equal(probabilities.size, 1);
  const before = g.nodes.length;
  gradients(loss, g.parameters.map((p) => p.tensor));
  return g.nodes.slice(before).filter((n) =>
    n.inputs.some((t) => t !== null && probabilities.has(t))
  );
}

Deno.test("a training graph recomputes the attention probabilities once they are large, and keeps small or dropped ones", () => {
  // 64 heads × 1 024² float32 = 256 MiB, the threshold: nothing of the backward reads the forward's
  // probabilities, so the runtime frees each layer's right after its forward.
  assert.equal(4 * 64 * 1024 * 1024, RECOMPUTE_ATTENTION_ABOVE_BYTES);
  assert.deepEqual(probabilityReaders(1024, 64, 0), []);
  assert.ok(probabilityReaders(1024, 64, 0.1).length > 0); // dropped: the rules keep them
  assert.ok(probabilityReaders(64, 2, 0).length > 0); // small: the rules keep them
});
