import assert from "node:assert/strict";
import { type BackendName, openBackend } from "../../../core/runtime/mod.ts";
import {
  type Decoder,
  generate,
  KVCacheDecoder,
  openGPTDecoder,
  openMixtureDecoder,
} from "../../../pipeline/generate/mod.ts";
import { GPT_CONFIGS, gptConfig, initGPT } from "../../../models/gpt.ts";
import type { Mixture, MixtureMember } from "../../../models/moe_mixture.ts";
import { buildMixtureCacheGraph } from "../../../models/moe_kv_cache.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });
/** A stack with one layer and a longer context: its prefill graphs take the blended path. */
const SHALLOW = gptConfig({ ...CFG, layers: 1, contextLength: 24 });

/** Three stacks sharing one `wte` (as JEET / MoE-CE experts do), weights ½, 0.3, 0.2. */
function sharedStacks(): MixtureMember[] {
  const wte = initGPT(CFG, 1).get("wte")!;
  return [["en", CFG, 0.5], ["fr", SHALLOW, 0.3], ["common", CFG, 0.2]].map(([name, cfg, w], i) => {
    const config = cfg as typeof CFG;
    const values = initGPT(config, 10 + i);
    values.set("wte", wte);
    return { name: name as string, config, values, weight: w as number };
  });
}

/** Two stacks with their own embeddings (PLE), weights ¼ and ¾. */
function separateStacks(): MixtureMember[] {
  return [["en", 0.25], ["de", 0.75]].map(([name, weight], i) => ({
    name: name as string,
    config: i === 0 ? CFG : SHALLOW,
    values: initGPT(i === 0 ? CFG : SHALLOW, 20 + i),
    weight: weight as number,
  }));
}

const MIXTURES: Record<string, Mixture> = {
  "hidden-mean": { rule: "hidden-mean", members: sharedStacks() },
  "probability-mean": { rule: "probability-mean", members: separateStacks() },
};

/** The mixture's logits in float64 from each stack's own logits (see models/moe_mixture.ts). */
function reference(mixture: Mixture, parts: Float32Array[]): Float64Array {
  const V = parts[0]!.length, out = new Float64Array(V);
  const w = mixture.members.map((m) => m.weight);
  if (mixture.rule === "hidden-mean") {
    // The head is linear: head(Σ wᵢ hᵢ) = Σ wᵢ head(hᵢ).
    parts.forEach((l, i) => l.forEach((x, v) => out[v]! += w[i]! * x));
    return out;
  }
  const probs = parts.map((l) => {
    const m = Math.max(...l);
    const e = Array.from(l, (x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  });
  for (let v = 0; v < V; v++) out[v] = Math.log(probs.reduce((s, p, i) => s + w[i]! * p[v]!, 0));
  return out;
}

function relError(a: Float32Array, b: Float64Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

/**
 * Feeds a prompt then tokens one by one to the mixture and to every stack alone; returns the
 * worst relative error of the mixture's logits against the float64 reference.
 */
async function worstError(
  mixture: Mixture,
  decoder: Decoder,
  stacks: Decoder[],
  prompt: number[],
  next: number[],
): Promise<number> {
  const check = async (feed: (d: Decoder) => Promise<Float32Array>) => {
    const parts = [];
    for (const s of stacks) parts.push(await feed(s));
    return relError(await feed(decoder), reference(mixture, parts));
  };
  let worst = await check((d) => d.prefill(prompt));
  for (const id of next) worst = Math.max(worst, await check((d) => d.step(id)));
  return worst;
}

async function compareOn(name: BackendName, cache: "host" | "device"): Promise<void> {
  const { backend } = await openBackend(name, { threads: 1 });
  for (const [rule, mixture] of Object.entries(MIXTURES)) {
    const decoders: Decoder[] = [];
    try {
      const mixed = await openMixtureDecoder(backend, mixture, { prefillLengths: [4], cache });
      const full = await openMixtureDecoder(backend, mixture, { mode: "recompute" });
      decoders.push(mixed, full);
      const stacks: Decoder[] = [];
      for (const m of mixture.members) {
        stacks.push(await openGPTDecoder(backend, m.config, m.values, { mode: "recompute" }));
      }
      decoders.push(...stacks);
      const next = [7, 250, 3, 3, 99, 0, 42, 17, 5, 128, 64];
      // 3 tokens: one 4-token chunk, then steps to the context's end; 6: two chunks; 14: the
      // whole-context graph. The recompute mixture is checked the same way.
      for (const d of [mixed, full]) {
        const cases: [number[], number[]][] = [
          [[10, 20, 30], next],
          [[1, 2, 3, 4, 5, 6], next.slice(0, 5)],
          [Array.from({ length: 14 }, (_, i) => (i * 37) % 256), [1, 2]],
        ];
        for (const [prompt, steps] of cases) {
          const err = await worstError(mixture, d, stacks, prompt, steps);
          assert.ok(err < 2e-5, `${name} ${rule} ${d === mixed ? "cache" : "recompute"}: ${err}`);
        }
      }
      assert.equal(mixed.contextLength, 16); // the smallest stack's
    } finally {
      for (const d of decoders) await d.dispose();
    }
  }
}

Deno.test("mixture decoding gives head(Σ w·h) and log Σ w·p of the separate stacks on cpu, prefill and every step", async () => {
  await compareOn("cpu", "host");
});

Deno.test("mixture decoding with the caches fed back as whole outputs matches too (cpu)", async () => {
  await compareOn("cpu", "device");
});

Deno.test("mixture decoding gives the reference logits on wasm", async () => {
  await compareOn("wasm", "host");
});

Deno.test("a KV-cache mixture generates the tokens of the recomputing mixture, window slides included", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  for (const mixture of Object.values(MIXTURES)) {
    const cache = await openMixtureDecoder(backend, mixture);
    const full = await openMixtureDecoder(backend, mixture, { mode: "recompute" });
    try {
      const options = {
        maxTokens: 30,
        eotId: null,
        sampling: { temperature: 1.2, topK: 0, topP: 1, seed: 4 },
      };
      const a = await generate(cache, [65, 66, 67], options);
      const b = await generate(full, [65, 66, 67], options);
      const again = await generate(cache, [65, 66, 67], options);
      assert.deepEqual(a.tokens, b.tokens);
      assert.deepEqual(a.tokens, again.tokens); // same seed, same tokens
      assert.ok(a.slides >= 2, `${a.slides} slides`);
    } finally {
      await cache.dispose();
      await full.dispose();
    }
  }
});

Deno.test("a one-stack mixture is exactly that stack's decoder", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const [en] = sharedStacks();
  const alone = await openMixtureDecoder(backend, {
    rule: "hidden-mean",
    members: [{ ...en!, weight: 1 }],
  });
  const plain = await openGPTDecoder(backend, en!.config, en!.values);
  try {
    assert.deepEqual(await alone.prefill([5, 6, 7]), await plain.prefill([5, 6, 7]));
    assert.deepEqual(await alone.step(8), await plain.step(8));
  } finally {
    await alone.dispose();
    await plain.dispose();
  }
});

Deno.test("invalid mixtures are RangeErrors that name the problem", () => {
  const [en, fr] = sharedStacks();
  const build = (mixture: Mixture) => () => buildMixtureCacheGraph(mixture, 1);
  assert.throws(build({ rule: "hidden-mean", members: [] }), /no stacks/);
  assert.throws(
    build({ rule: "hidden-mean", members: [{ ...en!, weight: 0.5 }, { ...fr!, weight: 0.4 }] }),
    /weights sum to 0.9/,
  );
  assert.throws(
    build({ rule: "hidden-mean", members: [{ ...en!, weight: 1 }, { ...fr!, weight: 0 }] }),
    /"fr" has weight 0/,
  );
  assert.throws(build({ rule: "hidden-mean", members: separateStacks() }), /sharing one wte/);
  assert.throws(() => buildMixtureCacheGraph(MIXTURES["hidden-mean"]!, 17), /context 16/);
});

Deno.test({
  name: "mixture decoding on webgpu gives the reference logits with the caches in GPU buffers",
  ignore: !("gpu" in navigator),
  async fn() {
    const { backend } = await openBackend("webgpu");
    const mixture = MIXTURES["hidden-mean"]!;
    const mixed = await openMixtureDecoder(backend, mixture);
    const stacks: Decoder[] = [];
    try {
      for (const m of mixture.members) {
        stacks.push(await openGPTDecoder(backend, m.config, m.values, { mode: "recompute" }));
      }
      assert.ok((await worstError(mixture, mixed, stacks, [1, 2, 3], [4, 5])) < 1e-3);
      assert.ok(mixed instanceof KVCacheDecoder);
      const where = mixed.locations();
      assert.equal(where["common.past.1.v"], "gpu-buffer");
      assert.equal(where["fr.h0.attn.qkv.w"], "gpu-buffer");
    } finally {
      await mixed.dispose();
      for (const s of stacks) await s.dispose();
    }
  },
});
