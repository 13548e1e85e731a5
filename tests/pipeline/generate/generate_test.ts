import assert from "node:assert/strict";
import {
  checkPrefill,
  checkStep,
  type Decoder,
  fitPrompt,
  generate,
  GREEDY,
  openGPTDecoder,
} from "../../../pipeline/generate/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import { GPT_CONFIGS, gptConfig, initGPT } from "../../../models/gpt.ts";

/**
 * A decoder whose next token is a function of the tokens it holds (one-hot logits), recording
 * every call: the loop's bookkeeping without a model.
 */
class ScriptedDecoder implements Decoder {
  readonly vocabSize = 50;
  calls: string[] = [];
  held: number[] = [];

  constructor(readonly contextLength: number, private readonly next: (held: number[]) => number) {}

  get length(): number {
    return this.held.length;
  }

  prefill(ids: ArrayLike<number>): Promise<Float32Array> {
    checkPrefill(ids, this.contextLength);
    this.held = Array.from(ids);
    this.calls.push(`prefill ${this.held.join(",")}`);
    return Promise.resolve(this.#logits());
  }

  step(id: number): Promise<Float32Array> {
    checkStep(this.held.length, this.contextLength);
    this.held.push(id);
    this.calls.push(`step ${id}`);
    return Promise.resolve(this.#logits());
  }

  #logits(): Float32Array {
    const l = new Float32Array(this.vocabSize);
    l[this.next(this.held)] = 1;
    return l;
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

const greedy = (maxTokens: number, eotId: number | null = null) => ({
  maxTokens,
  eotId,
  sampling: GREEDY,
});

Deno.test("generate() stops at max tokens and streams each token as it is drawn", async () => {
  const d = new ScriptedDecoder(32, (held) => (held.at(-1)! + 1) % 50);
  const seen: number[] = [];
  const r = await generate(d, [3, 4], greedy(4), (id) => void seen.push(id));
  assert.deepEqual(r.tokens, [5, 6, 7, 8]);
  assert.deepEqual(seen, [5, 6, 7, 8]);
  assert.equal(r.stop, "max_tokens");
  // The last token is not fed back: nothing would read its logits.
  assert.deepEqual(d.calls, ["prefill 3,4", "step 5", "step 6", "step 7"]);
});

Deno.test("generate() stops at the end-of-text token without emitting it", async () => {
  const d = new ScriptedDecoder(32, (held) => (held.length >= 4 ? 49 : 10 + held.length));
  const r = await generate(d, [1, 2], greedy(10, 49));
  assert.deepEqual(r.tokens, [12, 13]);
  assert.equal(r.stop, "eot");
});

Deno.test("an empty prompt starts from the end-of-text token; without one it is a RangeError", async () => {
  const d = new ScriptedDecoder(32, () => 7);
  const r = await generate(d, [], greedy(1, 49));
  assert.equal(d.calls[0], "prefill 49");
  assert.deepEqual(r.tokens, [7]);
  await assert.rejects(() => generate(d, [], greedy(1)), /empty prompt/);
  await assert.rejects(() => generate(d, [1], greedy(0)), /max tokens 0/);
});

Deno.test("a long prompt is cut from the left, and a full context slides to its last half", async () => {
  const d = new ScriptedDecoder(8, (held) => held.at(-1)! + 1);
  const r = await generate(d, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], greedy(7));
  // room = 8 − min(7, 4) = 4: the last four prompt tokens
  assert.equal(r.truncated, 6);
  assert.equal(r.promptTokens, 4);
  assert.deepEqual(r.tokens, [11, 12, 13, 14, 15, 16, 17]);
  assert.equal(r.slides, 1);
  assert.deepEqual(d.calls, [
    "prefill 7,8,9,10",
    "step 11",
    "step 12",
    "step 13",
    "step 14", // the context is full after this one
    "prefill 12,13,14,15",
    "step 16",
  ]);
});

Deno.test("fitPrompt() keeps room for the generation but at least half the context for the prompt", () => {
  assert.deepEqual(fitPrompt([1, 2, 3], 8, 2), { ids: [1, 2, 3], truncated: 0 });
  assert.deepEqual(fitPrompt([1, 2, 3, 4, 5, 6, 7], 8, 2), {
    ids: [2, 3, 4, 5, 6, 7],
    truncated: 1,
  });
  assert.deepEqual(fitPrompt([1, 2, 3, 4, 5, 6, 7], 8, 1000).ids, [4, 5, 6, 7]);
});

Deno.test("KV-cache and full-recompute decoding generate the same tokens, slides included", async () => {
  const cfg = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });
  const values = initGPT(cfg, 5);
  const { backend } = await openBackend("cpu", { threads: 1 });
  const cache = await openGPTDecoder(backend, cfg, values);
  const full = await openGPTDecoder(backend, cfg, values, { mode: "recompute" });
  try {
    for (const sampling of [GREEDY, { temperature: 1.5, topK: 0, topP: 1, seed: 9 }]) {
      const options = { maxTokens: 40, eotId: null, sampling };
      const a = await generate(cache, [65, 66, 67], options);
      const b = await generate(full, [65, 66, 67], options);
      assert.deepEqual(a.tokens, b.tokens);
      assert.ok(a.slides >= 3, `${a.slides} slides`);
    }
  } finally {
    await cache.dispose();
    await full.dispose();
  }
});
