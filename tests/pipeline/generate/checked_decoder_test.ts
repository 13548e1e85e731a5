import assert from "node:assert/strict";
import { checkedDecoder, type Decoder, generate, GREEDY } from "../../../pipeline/generate/mod.ts";

/** A decoder over 3 tokens whose logits are `logitsAt(length)` after each prefill or step. */
function fakeDecoder(logitsAt: (length: number) => number[]): Decoder {
  let length = 0;
  return {
    contextLength: 8,
    vocabSize: 3,
    get length() {
      return length;
    },
    prefill: (ids) => {
      length = ids.length;
      return Promise.resolve(Float32Array.from(logitsAt(length)));
    },
    step: () => {
      length++;
      return Promise.resolve(Float32Array.from(logitsAt(length)));
    },
    dispose: () => Promise.resolve(),
  };
}

Deno.test("a checked decoder passes sound logits through unchanged", async () => {
  const decoder = checkedDecoder(fakeDecoder(() => [0, -Infinity, 2]), 'model "run"');
  assert.deepEqual([...await decoder.prefill([1, 2])], [0, -Infinity, 2]);
  assert.equal(decoder.length, 2);
  assert.equal(decoder.contextLength, 8);
  const result = await generate(decoder, [1], { maxTokens: 3, eotId: null, sampling: GREEDY });
  assert.deepEqual(result.tokens, [2, 2, 2]);
});

Deno.test("generation names the model when its logits turn NaN, even when greedy", async () => {
  // Greedy decoding alone would return token 0 for NaN logits and carry on.
  const decoder = checkedDecoder(
    fakeDecoder((length) => length < 3 ? [1, 0, 0] : [0, NaN, 0]),
    'bundle "moe" (expert fr 0.50 + common 0.50)',
  );
  await assert.rejects(
    generate(decoder, [1, 2], { maxTokens: 5, eotId: null, sampling: GREEDY }),
    {
      name: "RangeError",
      message: 'Cannot generate with bundle "moe" (expert fr 0.50 + common 0.50): ' +
        "logit 1 is NaN at token 3",
    },
  );
});

Deno.test("a checked decoder refuses +Infinity and logits with nothing finite", async () => {
  const sampling = { temperature: 1, topK: 0, topP: 1, seed: 1 };
  for (
    const [logits, problem] of [
      [[0, Infinity, 0], "logit 1 is Infinity"],
      [[-Infinity, -Infinity, -Infinity], "no logit is finite"],
    ] as const
  ) {
    const decoder = checkedDecoder(fakeDecoder(() => [...logits]), 'model "run"');
    await assert.rejects(generate(decoder, [1], { maxTokens: 1, eotId: null, sampling }), {
      message: `Cannot generate with model "run": ${problem} at token 1`,
    });
  }
});
