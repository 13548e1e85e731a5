import assert from "node:assert/strict";
import { gradients } from "../../core/autodiff/mod.ts";
import { Graph, reshape, type Tensor } from "../../core/graph/mod.ts";
import { crossEntropy } from "../../core/losses/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { openMixtureDecoder } from "../../pipeline/generate/mod.ts";
import {
  buildGPTInference,
  GPT_CONFIGS,
  gptConfig,
  gptForward,
  initGPT,
} from "../../models/gpt.ts";
import {
  buildMoEInference,
  initMoE,
  memberValues,
  moeClassLogits,
  type MoEConfig,
} from "../../models/moe.ts";
import { checkMixture, sharesEmbedding } from "../../models/moe_mixture.ts";
import { centralDifference, rng } from "../_support/grad_check.ts";
import { arr, evaluate } from "../_support/reference.ts";

const UNTIED = { ...GPT_CONFIGS.tiny, contextLength: 16, vocabSize: 50, head: "untied" as const };
const T = UNTIED.contextLength;
const TOKENS = BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 7 + 3) % 50));

/**
 * Worst relative error of the analytic gradient against central differences, in float64, over
 * every index listed in `at` (parameter name → indices) and `samples` random ones.
 */
function worstGradientError(
  g: Graph,
  loss: Tensor,
  at: Record<string, number[]>,
  samples: number,
): number {
  const params = g.parameters.map((p) => p.tensor);
  const grads = gradients(loss, params);
  const feeds = new Map(g.parameters.map((p) => [p.tensor.name, arr(p.tensor.shape, p.init)]));
  const analytic = evaluate(g, feeds, params.map((p) => grads.get(p.name)!));
  const picks: [number, number][] = [];
  for (const [name, indices] of Object.entries(at)) {
    const i = params.findIndex((p) => p.name === name);
    assert.ok(i >= 0, `parameter ${name} is not in the graph`);
    for (const j of indices) picks.push([i, j]);
  }
  const r = rng(9);
  for (let k = 0; k < samples; k++) {
    const i = Math.floor(r() * params.length);
    picks.push([i, Math.floor(r() * feeds.get(params[i]!.name)!.data.length)]);
  }
  let worst = 0;
  for (const [i, j] of picks) {
    const fd = centralDifference(g, feeds, loss, params[i]!.name, j);
    worst = Math.max(worst, Math.abs(fd - analytic[i]!.data[j]!) / Math.max(1e-3, Math.abs(fd)));
  }
  return worst;
}

/** Init scaled up (as in gpt_grad_test.ts) so that attention and GELU are far from linear. */
function scaled(values: Map<string, Float32Array>): Map<string, Float32Array> {
  for (const v of values.values()) v.forEach((x, i) => (v[i] = x === 1 ? 1 : x * 20));
  return values;
}

const MINI = gptConfig({ vocabSize: 11, contextLength: 6, layers: 1, heads: 2, dModel: 8 });
const MINI_TOKENS = [1, 4, 4, 9, 2, 0, 3, 7, 10, 5];
const MINI_TARGETS = [4, 4, 9, 2, -1, 3, 7, 10, 5, 1];

function miniBatch(g: Graph): { tokens: Tensor; targets: Tensor } {
  const ints = (v: number[], shape: number[]) =>
    g.constant(BigInt64Array.from(v, BigInt), shape, "int64");
  return { tokens: ints(MINI_TOKENS, [2, 5]), targets: ints(MINI_TARGETS, [10]) };
}

Deno.test("an untied GPT's gradient matches finite differences, lm_head and wte included", () => {
  const cfg = { ...MINI, head: "untied" as const };
  const g = new Graph("gpt.untied");
  const { tokens, targets } = miniBatch(g);
  const values = scaled(initGPT(cfg, 5));
  const loss = crossEntropy(
    gptForward(g, cfg, reshape(tokens, [2, 5]), { batch: 2, seqLen: 5, values }),
    targets,
  );
  // Row 6 of lm_head is a target's (softmax and target terms), row 8 only the softmax's; wte's
  // gradient now comes from the embedding lookup alone.
  const at = { lm_head: [6 * 8 + 1, 8 * 8 + 3], wte: [4 * 8 + 2, 9 * 8 + 5] };
  const worst = worstGradientError(g, loss, at, 30);
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});

Deno.test("an untied MoE-CE class loss has the right gradient for the shared head, wte and both stacks", () => {
  const model = { ...MINI, head: "untied" as const };
  const cfg: MoEConfig = { model, classes: ["en", "fr"], variant: "moe-ce" };
  const g = new Graph("moe.untied");
  const { tokens, targets } = miniBatch(g);
  const values = scaled(initMoE(cfg, 3));
  const loss = crossEntropy(moeClassLogits(g, cfg, "en", reshape(tokens, [2, 5]), values), targets);
  const names = g.parameters.map((p) => p.tensor.name);
  assert.equal(names.filter((n) => n.endsWith("lm_head")).length, 1, "one shared lm_head");
  assert.ok(!names.some((n) => n.startsWith("fr.")), "the fr stack stays out of en's graph");
  const at = {
    lm_head: [4 * 8, 7 * 8 + 7],
    wte: [9 * 8 + 1],
    "en.lnf.scale": [3],
    "common.h0.mlp.fc.w": [17],
  };
  const worst = worstGradientError(g, loss, at, 30);
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});

async function logitsOf(bytes: Uint8Array, weights?: number[]): Promise<Float32Array> {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const s = await backend.createSession(bytes);
  const feeds = {
    tokens: s.wrap({ dtype: "int64", dims: [1, T], data: TOKENS }),
    ...(weights
      ? {
        weights: s.wrap({
          dtype: "float32",
          dims: [weights.length],
          data: Float32Array.from(weights),
        }),
      }
      : {}),
  };
  const out = await s.download((await s.run(feeds)).logits!);
  await s.dispose();
  return out.data as Float32Array;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

Deno.test("initMoE() shares one lm_head across stacks and leaves a tied MoE's initialization as it was", () => {
  const untied = initMoE({ model: UNTIED, classes: ["en", "fr"], variant: "moe-ce" }, 4);
  assert.deepEqual([...untied.keys()].filter((n) => n.includes("lm_head")), ["lm_head"]);
  const tied = initMoE({ model: GPT_CONFIGS.tiny, classes: ["en", "fr"], variant: "jeet" }, 4);
  assert.ok(!tied.has("lm_head"));
  assert.deepEqual(tied.get("wte"), initGPT(GPT_CONFIGS.tiny, 4).get("wte"));
  assert.deepEqual(tied.get("fr.wpe"), initGPT(GPT_CONFIGS.tiny, 6).get("wpe"));
  assert.deepEqual(memberValues(UNTIED, untied, "common").get("lm_head"), untied.get("lm_head"));
});

Deno.test("an untied JEET routed to one class is that class's standalone untied GPT, and reads lm_head, not wte", async () => {
  const cfg: MoEConfig = { model: UNTIED, classes: ["en", "fr"], variant: "jeet" };
  const values = initMoE(cfg, 3);
  const moe = await logitsOf(buildMoEInference(cfg, values), [0, 1]);
  const fr = memberValues(UNTIED, values, "fr");
  const gpt = await logitsOf(buildGPTInference(UNTIED, { batch: 1, seqLen: T, values: fr }));
  assert.ok(maxDiff(moe, gpt) < 1e-5, `max diff ${maxDiff(moe, gpt)}`);
  const tied = { ...UNTIED, head: "tied" as const };
  const viaWte = await logitsOf(buildGPTInference(tied, { batch: 1, seqLen: T, values: fr }));
  assert.ok(maxDiff(viaWte, gpt) > 1e-3, "the untied head must not read wte");
});

Deno.test("mixing untied stacks needs one shared lm_head, and the MoE-CE decoder gives the MoE's logits", async () => {
  const cfg: MoEConfig = { model: UNTIED, classes: ["en", "fr"], variant: "moe-ce" };
  const values = initMoE(cfg, 8);
  const members = ["en", "common"].map((name) => ({
    name,
    config: UNTIED,
    values: memberValues(UNTIED, values, name),
    weight: 0.5,
  }));
  assert.ok(sharesEmbedding(members));
  const other = new Map(members[1]!.values).set("lm_head", initGPT(UNTIED, 99).get("lm_head")!);
  assert.ok(!sharesEmbedding([members[0]!, { ...members[1]!, values: other }]));
  assert.throws(
    () =>
      checkMixture({
        rule: "hidden-mean",
        members: [members[0]!, { ...members[1]!, values: other }],
      }),
    /sharing one wte and head/,
  );
  const { backend } = await openBackend("cpu", { threads: 1 });
  const decoder = await openMixtureDecoder(backend, { rule: "hidden-mean", members });
  const ids = Array.from(TOKENS.subarray(0, 9), Number);
  const prefill = await decoder.prefill(ids);
  await decoder.dispose();
  const full = await logitsOf(buildMoEInference(cfg, values), [1, 0]); // [1, T, V]
  const V = UNTIED.vocabSize, row = full.subarray(8 * V, 9 * V);
  assert.ok(maxDiff(prefill, row) < 1e-4, `max diff ${maxDiff(prefill, row)}`);
});
