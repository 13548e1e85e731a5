import assert from "node:assert/strict";
import { gradients } from "../../core/autodiff/mod.ts";
import { Graph, reshape, type Tensor } from "../../core/graph/mod.ts";
import { crossEntropy } from "../../core/losses/mod.ts";
import { type GPTConfig, gptConfig, gptForward, initGPT } from "../../models/gpt.ts";
import { erf } from "../_support/erf.ts";
import { centralDifference, rng } from "../_support/grad_check.ts";
import { arr, evaluate } from "../_support/reference.ts";

/**
 * A miniature GPT (V 11, C 8, 2 heads, 1 layer, T 5) of `activation`, its parameters scaled up so
 * that the MLP's inputs reach where the two GELUs differ; with its loss on fixed targets.
 */
function miniature(activation: GPTConfig["activation"]) {
  const base = gptConfig({ vocabSize: 11, contextLength: 6, layers: 1, heads: 2, dModel: 8 });
  const cfg: GPTConfig = { ...base, ...(activation ? { activation } : {}) };
  const values = initGPT(cfg, 5);
  for (const v of values.values()) v.forEach((x, i) => (v[i] = x === 1 ? 1 : x * 20));
  const g = new Graph("gpt");
  const tokens = g.constant(BigInt64Array.from([1, 4, 4, 9, 2], BigInt), [1, 5], "int64");
  const targets = g.constant(BigInt64Array.from([4, 4, 9, 2, 7], BigInt), [5], "int64");
  const logits = gptForward(g, cfg, reshape(tokens, [1, 5]), { batch: 1, seqLen: 5, values });
  const loss = crossEntropy(logits, targets);
  const feeds = new Map(g.parameters.map((p) => [p.tensor.name, arr(p.tensor.shape, p.init)]));
  // The GELU's input: the MLP's first linear layer; its output: what the second one reads.
  const gemm = (scope: string) => g.nodes.find((n) => n.op === "Gemm" && n.name.includes(scope))!;
  const geluIn = gemm("h0.mlp.fc").outputs[0]!, geluOut = gemm("h0.mlp.proj").inputs[0]!;
  return { g, loss, feeds, geluIn, geluOut };
}

/** Float64 values of `tensors` in the reference evaluator. */
function values(m: ReturnType<typeof miniature>, tensors: Tensor[]): Float64Array[] {
  return evaluate(m.g, m.feeds, tensors).map((a) => Float64Array.from(a.data));
}

Deno.test('the MLP computes 0.5·x·(1 + erf(x/√2)) for activation "gelu", the tanh form by default', () => {
  const c = Math.sqrt(2 / Math.PI);
  const formulas = {
    gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_new: (x: number) => 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x ** 3))),
  };
  for (const [activation, formula] of Object.entries(formulas)) {
    const m = miniature(activation === "gelu" ? "gelu" : undefined);
    const [x, y] = values(m, [m.geluIn, m.geluOut]);
    assert.ok(x!.some((v) => Math.abs(v) > 2), "the inputs reach where the two GELUs differ");
    // 1e-6: the graph holds its constants (√½, √(2/π), 0.044715·√(2/π)) as float32.
    x!.forEach((v, i) => assert.ok(Math.abs(y![i]! - formula(v)) < 1e-6, `${activation}(${v})`));
  }
  const [exact, tanh] = [miniature("gelu"), miniature(undefined)];
  const [a] = values(exact, [exact.loss]), [b] = values(tanh, [tanh.loss]);
  assert.ok(Math.abs(a![0]! - b![0]!) > 1e-6, "the two GELUs give different losses");
});

for (const activation of ["gelu", undefined] as const) {
  Deno.test(`the ${activation === "gelu" ? "exact" : "tanh"} GELU's gradient through the whole GPT matches finite differences`, () => {
    gradientCheck(miniature(activation));
  });
}

Deno.test("the GELUs' backward reads only their input, none of the forward's intermediates", () => {
  for (const activation of ["gelu", undefined] as const) {
    const m = miniature(activation);
    const before = m.g.nodes.length;
    // The forward's GELU block: every node from the fc output to the proj input.
    const block = new Set<Tensor>();
    let inside = false;
    for (const n of m.g.nodes.slice(0, before)) {
      if (n.inputs.includes(m.geluIn)) inside = true;
      if (inside) n.outputs.forEach((t) => block.add(t));
      if (n.outputs.includes(m.geluOut)) break;
    }
    assert.ok(block.size >= 5, `${activation}: the block has its intermediates (${block.size})`);
    gradients(m.loss, m.g.parameters.map((p) => p.tensor));
    const readers = m.g.nodes.slice(before).filter((n) =>
      n.inputs.some((t) => t !== null && block.has(t) && t !== m.geluOut)
    );
    assert.deepEqual(readers.map((n) => n.name), [], `${activation ?? "tanh"}`);
  }
});

function gradientCheck(m: ReturnType<typeof miniature>) {
  const params = m.g.parameters.map((p) => p.tensor);
  const grads = gradients(m.loss, params);
  const analytic = evaluate(m.g, m.feeds, params.map((p) => grads.get(p.name)!));
  const r = rng(3);
  let worst = 0;
  // Every MLP input weight's column is reached through the GELU; sample the rest.
  for (let k = 0; k < 60; k++) {
    const i = k < 20
      ? params.findIndex((p) => p.name === "h0.mlp.fc.w")
      : Math.floor(r() * params.length);
    const name = params[i]!.name;
    const j = Math.floor(r() * m.feeds.get(name)!.data.length);
    const fd = centralDifference(m.g, m.feeds, m.loss, name, j);
    worst = Math.max(worst, Math.abs(fd - analytic[i]!.data[j]!) / Math.max(1e-3, Math.abs(fd)));
  }
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
}
