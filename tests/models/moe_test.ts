import assert from "node:assert/strict";
import { openBackend } from "../../core/runtime/mod.ts";
import { buildGPTInference, GPT_CONFIGS } from "../../models/gpt.ts";
import {
  buildMoEInference,
  buildTokenLoss,
  checkMoEConfig,
  initMoE,
  memberValues,
  type MoEConfig,
  moeParamName,
} from "../../models/moe.ts";

const model = { ...GPT_CONFIGS.tiny, contextLength: 16, vocabSize: 50 };
const T = model.contextLength;
const tokens = BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 7 + 3) % 50));
const cpu = async () => (await openBackend("cpu", { threads: 1 })).backend;

async function logitsOf(bytes: Uint8Array, weights?: number[]): Promise<Float32Array> {
  const backend = await cpu();
  const s = await backend.createSession(bytes);
  const feeds = {
    tokens: s.wrap({ dtype: "int64", dims: [1, T], data: tokens }),
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

Deno.test("a JEET routed to one class computes exactly the standalone GPT of that class's stack", async () => {
  const cfg: MoEConfig = { model, classes: ["en", "fr", "py"], variant: "jeet" };
  const values = initMoE(cfg, 3);
  const moe = await logitsOf(buildMoEInference(cfg, values), [0, 1, 0]);
  const fr = memberValues(model, values, "fr");
  const gpt = await logitsOf(buildGPTInference(model, { batch: 1, seqLen: T, values: fr }));
  assert.ok(maxDiff(moe, gpt) < 1e-5, `max diff ${maxDiff(moe, gpt)}`);
  const en = await logitsOf(
    buildGPTInference(model, { batch: 1, seqLen: T, values: memberValues(model, values, "en") }),
  );
  assert.ok(maxDiff(en, gpt) > 1e-3, "different stacks must give different logits");
});

Deno.test("MoE-CE averages hidden states: a common stack equal to the expert's changes nothing", async () => {
  const cfg: MoEConfig = { model, classes: ["en", "fr"], variant: "moe-ce" };
  const values = initMoE(cfg, 5);
  for (const [name, v] of memberValues(model, values, "en")) {
    values.set(moeParamName("common", name), v);
  }
  const moe = await logitsOf(buildMoEInference(cfg, values), [1, 0]);
  const gpt = await logitsOf(
    buildGPTInference(model, { batch: 1, seqLen: T, values: memberValues(model, values, "en") }),
  );
  assert.ok(maxDiff(moe, gpt) < 1e-5, `max diff ${maxDiff(moe, gpt)}`);
  // With a different common stack the mixture differs from the expert alone.
  const fresh = initMoE(cfg, 5);
  const mixed = await logitsOf(buildMoEInference(cfg, fresh), [1, 0]);
  assert.ok(
    maxDiff(
      mixed,
      await logitsOf(
        buildGPTInference(model, { batch: 1, seqLen: T, values: memberValues(model, fresh, "en") }),
      ),
    ) > 1e-3,
  );
});

Deno.test("buildTokenLoss() gives −log softmax(logits)[target] per token, float64 reference, 0 on padding", async () => {
  const cfg: MoEConfig = { model, classes: ["en", "fr"], variant: "jeet" };
  const values = memberValues(model, initMoE(cfg, 7), "en");
  const logits = await logitsOf(buildGPTInference(model, { batch: 1, seqLen: T, values }));
  const targets = BigInt64Array.from(
    { length: T },
    (_, i) => (i === T - 1 ? -1n : BigInt((i * 11 + 1) % 50)),
  );
  const backend = await cpu();
  const s = await backend.createSession(buildTokenLoss(model, [values], { batch: 1, seqLen: T }));
  const r = await s.run({
    tokens: s.wrap({ dtype: "int64", dims: [1, T], data: tokens }),
    targets: s.wrap({ dtype: "int64", dims: [1, T], data: targets }),
  });
  const nll = (await s.download(r.nll!)).data as Float32Array;
  await s.dispose();
  const V = model.vocabSize;
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V), Number);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((sum, x) => sum + Math.exp(x - m), 0));
    const want = targets[t]! < 0n ? 0 : lse - row[Number(targets[t]!)]!;
    assert.ok(Math.abs(nll[t]! - want) < 1e-4, `token ${t}: ${nll[t]} vs ${want}`);
  }
});

Deno.test("checkMoEConfig() rejects reserved, dotted and repeated class names", () => {
  for (const classes of [["en", "common"], ["en", "e.n"], ["en", "en"], []]) {
    assert.throws(
      () => checkMoEConfig({ model, classes, variant: "jeet" }),
      RangeError,
      classes.join(),
    );
  }
  checkMoEConfig({ model, classes: ["en", "fr"], variant: "moe-ce" });
});
