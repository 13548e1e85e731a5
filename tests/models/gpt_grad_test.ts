import assert from "node:assert/strict";
import { gradients } from "../../core/autodiff/mod.ts";
import { Graph, reshape } from "../../core/graph/mod.ts";
import { crossEntropy } from "../../core/losses/mod.ts";
import { gptConfig, gptForward, initGPT } from "../../models/gpt.ts";
import { centralDifference, rng } from "../_support/grad_check.ts";
import { arr, evaluate } from "../_support/reference.ts";

Deno.test("the whole GPT's gradient matches finite differences on sampled parameters", () => {
  // A miniature GPT (V 11, C 8, 2 heads, 2 layers, T 5) in float64; init scaled up so that the
  // attention and GELU are far from linear.
  const cfg = gptConfig({ vocabSize: 11, contextLength: 6, layers: 2, heads: 2, dModel: 8 });
  const values = initGPT(cfg, 5);
  for (const v of values.values()) v.forEach((x, i) => (v[i] = x === 1 ? 1 : x * 20));
  const g = new Graph("gpt");
  const tokens = g.constant(
    BigInt64Array.from([1, 4, 4, 9, 2, 0, 3, 7, 10, 5], BigInt),
    [2, 5],
    "int64",
  );
  const targets = g.constant(
    BigInt64Array.from([4, 4, 9, 2, -1, 3, 7, 10, 5, 1], BigInt),
    [10],
    "int64",
  );
  const loss = crossEntropy(
    gptForward(g, cfg, reshape(tokens, [2, 5]), { batch: 2, seqLen: 5, values }),
    targets,
  );
  const params = g.parameters.map((p) => p.tensor);
  const grads = gradients(loss, params);
  const feeds = new Map(g.parameters.map((p) => [p.tensor.name, arr(p.tensor.shape, p.init)]));
  const analytic = evaluate(g, feeds, params.map((p) => grads.get(p.name)!));
  const r = rng(9);
  let worst = 0;
  for (let k = 0; k < 60; k++) {
    const i = Math.floor(r() * params.length), name = params[i]!.name;
    const j = Math.floor(r() * feeds.get(name)!.data.length);
    const fd = centralDifference(g, feeds, loss, name, j);
    worst = Math.max(worst, Math.abs(fd - analytic[i]!.data[j]!) / Math.max(1e-3, Math.abs(fd)));
  }
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});
