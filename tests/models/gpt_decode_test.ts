import assert from "node:assert/strict";
import { type BackendName, openBackend } from "../../core/runtime/mod.ts";
import { type Decoder, KVCacheDecoder, openGPTDecoder } from "../../pipeline/generate/mod.ts";
import { buildGPTCacheGraph, emptyKVCache } from "../../models/gpt_kv_cache.ts";
import { Graph } from "../../core/graph/mod.ts";
import { declareGPTParams, GPT_CONFIGS, gptConfig, gptHidden, initGPT } from "../../models/gpt.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });
const VALUES = initGPT(CFG, 11);

/** Largest |a − b| relative to the largest |b| (logits are O(0.1) at initialization). */
function relError(a: Float32Array, b: Float32Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

/** Prefill then steps on both decoders; returns the worst relative logit error. */
async function worstError(cache: Decoder, full: Decoder, prompt: number[], next: number[]) {
  let worst = relError(await cache.prefill(prompt), await full.prefill(prompt));
  for (const id of next) {
    worst = Math.max(worst, relError(await cache.step(id), await full.step(id)));
  }
  return worst;
}

async function compareOn(
  name: BackendName,
  tolerance: number,
  where: "host" | "device",
): Promise<void> {
  const { backend } = await openBackend(name, { threads: 1 });
  const cache = await openGPTDecoder(backend, CFG, VALUES, { prefillLengths: [4], cache: where });
  const full = await openGPTDecoder(backend, CFG, VALUES, { mode: "recompute" });
  try {
    const next = [7, 250, 3, 3, 99, 0, 42, 17, 5, 128, 64];
    // 3 tokens: one 4-token chunk; 6: two chunks (the second attends to the first); 14: the
    // whole-context graph (four chunks would pad to 16 = the context); then to the context's end.
    assert.ok((await worstError(cache, full, [10, 20, 30], next)) < tolerance);
    assert.ok((await worstError(cache, full, [1, 2, 3, 4, 5, 6], next.slice(0, 10))) < tolerance);
    const long = Array.from({ length: 14 }, (_, i) => (i * 37) % 256);
    assert.ok((await worstError(cache, full, long, [1, 2])) < tolerance);
    assert.equal(cache.length, 16);
    // A second prefill forgets the first sequence: stale cache slots are never attended.
    assert.ok((await worstError(cache, full, [200], [201, 202])) < tolerance);
  } finally {
    await cache.dispose();
    await full.dispose();
  }
}

Deno.test("KV-cache decoding gives the logits of full recompute on cpu within float32 tolerance", async () => {
  await compareOn("cpu", 1e-5, "host");
});

Deno.test("KV-cache decoding with the cache fed back as whole graph outputs matches too (cpu)", async () => {
  await compareOn("cpu", 1e-5, "device");
});

Deno.test("KV-cache decoding gives the logits of full recompute on wasm", async () => {
  await compareOn("wasm", 1e-5, "host");
});

Deno.test({
  name: "KV-cache decoding on webgpu matches full recompute and keeps the cache in GPU buffers",
  ignore: !("gpu" in navigator),
  async fn() {
    const { backend } = await openBackend("webgpu");
    const cache = await openGPTDecoder(backend, CFG, VALUES);
    const full = await openGPTDecoder(backend, CFG, VALUES, { mode: "recompute" });
    try {
      assert.ok((await worstError(cache, full, [1, 2, 3], [4, 5, 6])) < 1e-3);
      assert.ok(cache instanceof KVCacheDecoder);
      const where = cache.locations();
      assert.equal(where["past.0.k"], "gpu-buffer");
      assert.equal(where["wte"], "gpu-buffer");
    } finally {
      await cache.dispose();
      await full.dispose();
    }
  },
});

Deno.test("the cache graph declares past/present for every layer and binds each present to its past", () => {
  const g = buildGPTCacheGraph(CFG, 1, { values: VALUES });
  assert.deepEqual(g.bindings.map((b) => `${b.output}>${b.input}`), [
    "present.0.k>past.0.k",
    "present.0.v>past.0.v",
    "present.1.k>past.1.k",
    "present.1.v>past.1.v",
  ]);
  const empty = emptyKVCache(gptConfig({ ...CFG, contextLength: 12 }), 3);
  assert.deepEqual(empty["past.0.k"]!.dims, [3, 2, 16, 12]); // [B, nh, hs, ctx]
  assert.deepEqual(empty["past.0.v"]!.dims, [3, 2, 12, 16]); // [B, nh, ctx, hs]
  assert.equal(g.parameters.size, 2 + 12 * 2 + 2);
  const host = buildGPTCacheGraph(CFG, 3, { values: VALUES, cache: "host" });
  assert.deepEqual(host.bindings, []);
  assert.deepEqual(host.rows[1], { input: "past.0.v", output: "rows.0.v", axis: 2 });
});

Deno.test("baking the parameters in gives the same graph outputs as feeding them", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const a = await openGPTDecoder(backend, CFG, VALUES, { parameters: "initializers" });
  const b = await openGPTDecoder(backend, CFG, VALUES, { parameters: "inputs" });
  assert.ok(relError(await a.prefill([9, 8, 7]), await b.prefill([9, 8, 7])) < 1e-6);
  assert.ok(relError(await a.step(6), await b.step(6)) < 1e-6);
  await a.dispose();
  await b.dispose();
});

Deno.test("only the cache path builds position masks: gptHidden() alone has no Equal, Greater or Cast", () => {
  const g = new Graph("forward");
  gptHidden(g, CFG, g.input("tokens", "int64", [1, 8]), declareGPTParams(g, CFG));
  const ops = new Set<string>(g.nodes.map((n) => n.op));
  for (const op of ["Equal", "Greater", "Cast"]) assert.ok(!ops.has(op), op);
  const cached = buildGPTCacheGraph(CFG, 1, { values: VALUES });
  assert.ok(cached.model.length > 0);
});
