/**
 * A {@linkcode Decoder} that checks every logits vector before it is sampled, so that a model
 * whose numbers overflowed fails with a line naming the model or the bundle's experts — the
 * sampler alone can only say which logit is NaN, and greedy decoding would silently pick token 0.
 *
 * @module
 */
import type { Decoder } from "./decoder.ts";

/**
 * Why `logits` cannot be sampled, or null when they can: a NaN or +Infinity logit, or none finite
 * (softmax would divide 0 by 0). −Infinity alone is fine: that token has probability 0.
 *
 * @example
 * ```ts
 * import { badLogits } from "./checked_decoder.ts";
 * console.assert(badLogits(Float32Array.of(0, -Infinity, 2)) === null);
 * console.assert(badLogits(Float32Array.of(0, NaN)) === "logit 1 is NaN");
 * console.assert(badLogits(Float32Array.of(-Infinity)) === "no logit is finite");
 * ```
 */
export function badLogits(logits: Float32Array): string | null {
  let finite = false;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i]!;
    if (Number.isNaN(l) || l === Infinity) return `logit ${i} is ${l}`;
    if (l !== -Infinity) finite = true;
  }
  return finite ? null : "no logit is finite";
}

/**
 * Wraps `decoder` so that `prefill` and `step` throw when their logits cannot be sampled.
 *
 * @param decoder The model.
 * @param model What it is, as the message names it: `model "runs/teacher/step-000100"`, or a
 *   bundle and its experts.
 * @returns A decoder with the same behaviour on sound logits.
 *
 * @example
 * ```ts
 * import { checkedDecoder } from "./checked_decoder.ts";
 * const nan: Parameters<typeof checkedDecoder>[0] = {
 *   contextLength: 4, vocabSize: 2, length: 1,
 *   prefill: () => Promise.resolve(Float32Array.of(0, NaN)),
 *   step: () => Promise.resolve(Float32Array.of(0, 0)),
 *   dispose: () => Promise.resolve(),
 * };
 * const error = await checkedDecoder(nan, 'model "run"').prefill([1]).catch(String);
 * console.assert(error === 'RangeError: Cannot generate with model "run": logit 1 is NaN at token 1');
 * ```
 */
export function checkedDecoder(decoder: Decoder, model: string): Decoder {
  const check = (logits: Float32Array): Float32Array => {
    const bad = badLogits(logits);
    if (bad !== null) {
      throw new RangeError(`Cannot generate with ${model}: ${bad} at token ${decoder.length}`);
    }
    return logits;
  };
  return {
    get contextLength() {
      return decoder.contextLength;
    },
    get vocabSize() {
      return decoder.vocabSize;
    },
    get length() {
      return decoder.length;
    },
    prefill: async (ids) => check(await decoder.prefill(ids)),
    step: async (id) => check(await decoder.step(id)),
    dispose: () => decoder.dispose(),
    ...(decoder.prefillScored === undefined ? {} : {
      prefillScored: async (ids: ArrayLike<number>) => {
        const scored = await decoder.prefillScored!(ids);
        return { ...scored, logits: check(scored.logits) };
      },
    }),
  };
}
