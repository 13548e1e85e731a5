import assert from "node:assert/strict";
import { openBackend } from "../../../core/runtime/mod.ts";
import { openGPTDecoder } from "../../../pipeline/generate/mod.ts";
import { GPT_CONFIGS, gptConfig, initGPT } from "../../../models/gpt.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });
const VALUES = initGPT(CFG, 5);

Deno.test("the logits a KV-cache decoder returns stay as they were after later runs", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const decoder = await openGPTDecoder(backend, CFG, VALUES, { prefillLengths: [4] });
  try {
    const first = await decoder.prefill([1, 2, 3]);
    const kept = first.slice();
    const second = await decoder.step(4);
    await decoder.prefill([9, 8, 7, 6, 5]);
    await decoder.step(4);
    assert.notDeepEqual(second, kept);
    assert.deepEqual(first, kept);
  } finally {
    await decoder.dispose();
  }
});

Deno.test("a one-thread step beside two-thread prefill gives the logits of a two-thread step", async () => {
  const { backend } = await openBackend("cpu", { threads: 2 });
  const one = await openGPTDecoder(backend, CFG, VALUES, { prefillLengths: [4] });
  const two = await openGPTDecoder(backend, CFG, VALUES, { prefillLengths: [4], stepThreads: 2 });
  try {
    const prompt = [3, 1, 4, 1, 5, 9];
    let worst = 0;
    const compare = (a: Float32Array, b: Float32Array) => {
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    };
    compare(await one.prefill(prompt), await two.prefill(prompt));
    for (const id of [2, 6, 5, 3, 5, 8, 9]) compare(await one.step(id), await two.step(id));
    assert.equal(one.length, 13);
    assert.ok(worst < 1e-6, `largest difference ${worst}`);
  } finally {
    await one.dispose();
    await two.dispose();
  }
});
