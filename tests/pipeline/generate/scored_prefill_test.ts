import assert from "node:assert/strict";
import { openBackend } from "../../../core/runtime/mod.ts";
import {
  type Decoder,
  generate,
  GREEDY,
  openGPTDecoder,
  openMixtureDecoder,
} from "../../../pipeline/generate/mod.ts";
import { GPT_CONFIGS, gptConfig, initGPT } from "../../../models/gpt.ts";
import type { Mixture } from "../../../models/moe_mixture.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });

/** Two stacks sharing `wte` (MoE-CE-like) or with their own (PLE-like), weights 0.6 / 0.4. */
function mixture(rule: Mixture["rule"]): Mixture {
  const wte = initGPT(CFG, 1).get("wte")!;
  return {
    rule,
    members: ["fr", "common"].map((name, i) => {
      const values = initGPT(CFG, 30 + i);
      if (rule === "hidden-mean") values.set("wte", wte);
      return { name, config: CFG, values, weight: i === 0 ? 0.6 : 0.4 };
    }),
  };
}

/** Σₜ log softmax(logits after ids[..t])[ids[t+1]] in float64, from a recompute decoder. */
async function referenceLogLikelihood(full: Decoder, ids: number[]): Promise<number> {
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const logits = await full.prefill(ids.slice(0, t + 1));
    const top = Math.max(...logits);
    const z = logits.reduce((s, l) => s + Math.exp(l - top), 0);
    sum += logits[ids[t + 1]!]! - top - Math.log(z);
  }
  return sum;
}

/** 1 token, one 4-token chunk, two chunks, the whole-context graph. */
const PROMPTS = [
  [9],
  [10, 20, 30],
  [1, 2, 3, 4, 5, 6],
  Array.from({ length: 16 }, (_, i) => i * 13),
];

Deno.test("a scored prefill's log-likelihood is the float64 sum of the recompute logits' log-softmax", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const opened: [string, Decoder, Decoder][] = [];
  const values = initGPT(CFG, 5);
  // Both parameter placements: baked in (small models on cpu) and shared inputs (large ones).
  for (const cache of ["host", "device"] as const) {
    for (const parameters of ["initializers", "inputs"] as const) {
      const o = { score: true, prefillLengths: [4], cache, parameters };
      opened.push([
        `gpt ${cache} ${parameters}`,
        await openGPTDecoder(backend, CFG, values, o),
        await openGPTDecoder(backend, CFG, values, { mode: "recompute" }),
      ]);
      for (const rule of ["hidden-mean", "probability-mean"] as const) {
        const m = mixture(rule);
        opened.push([
          `${rule} ${cache} ${parameters}`,
          await openMixtureDecoder(backend, m, o),
          await openMixtureDecoder(backend, m, { mode: "recompute" }),
        ]);
      }
    }
  }
  try {
    for (const [name, scored, full] of opened) {
      for (const ids of PROMPTS) {
        const { logits, logLikelihood } = await scored.prefillScored!(ids);
        const want = await referenceLogLikelihood(full, ids);
        assert.ok(
          Math.abs(logLikelihood - want) < 1e-3,
          `${name} ${ids.length}: ${logLikelihood} vs ${want}`,
        );
        if (ids.length === 1) assert.equal(logLikelihood, 0);
        assert.equal(scored.length, ids.length);
        const reference = await full.prefill(ids);
        const err = Math.max(...logits.map((l, v) => Math.abs(l - reference[v]!)));
        assert.ok(err < 1e-4, `${name}: logits off by ${err}`);
        // The recompute decoder scores the same way (its reference path).
        const again = await full.prefillScored!(ids);
        assert.ok(Math.abs(again.logLikelihood - want) < 1e-9);
      }
    }
  } finally {
    for (const [, a, b] of opened) {
      await a.dispose();
      await b.dispose();
    }
  }
});

Deno.test("generation continues from a scored prefill's cache with the tokens of a plain decoder", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const m = mixture("hidden-mean");
  const scored = await openMixtureDecoder(backend, m, { score: true });
  const plain = await openMixtureDecoder(backend, m);
  try {
    const prompt = [65, 66, 67, 68, 69];
    const logits = (await scored.prefillScored!(prompt)).logits;
    assert.deepEqual(logits, await plain.prefill(prompt)); // the one-row path, unchanged
    const options = { maxTokens: 8, eotId: null, sampling: GREEDY };
    const kept = await generate(scored, prompt, { ...options, prefilled: logits });
    const fresh = await generate(plain, prompt, options);
    assert.deepEqual(kept.tokens, fresh.tokens);
    // A plain prefill of a scored decoder scores nothing and gives the same logits.
    assert.deepEqual(await scored.prefill(prompt), logits);
  } finally {
    await scored.dispose();
    await plain.dispose();
  }
});

Deno.test("a decoder opened without scoring says so", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const plain = await openGPTDecoder(backend, CFG, initGPT(CFG, 5));
  try {
    await assert.rejects(() => plain.prefillScored!([1, 2]), /opened without scoring/);
  } finally {
    await plain.dispose();
  }
});
