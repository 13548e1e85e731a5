import {
  cast,
  div,
  gatherElements,
  greater,
  logSoftmax,
  max,
  mul,
  neg,
  reduceSum,
  type Tensor,
  unsqueeze,
  where,
} from "../graph/mod.ts";

/**
 * Token-level cross-entropy on next-token labels, in graph form:
 * `CE = −Σₙ mₙ · log softmax(logitsₙ)[targetₙ] / max(1, Σₙ mₙ)`, where `mₙ = [targetₙ ≥ 0]`, so a
 * target of −1 marks padding and an all-padding batch gives 0 rather than 0/0.
 *
 * Built from LogSoftmax and GatherElements, which every execution provider (WebGPU included)
 * runs; the gradient is a scatter-add, so no one-hot `[N, V]` matrix is ever built (V can be
 * 32 K). (The fused `SoftmaxCrossEntropyLoss` op has a rule too, but onnxruntime-web's WebGPU EP
 * would run it on the CPU, moving `[N, V]` logits across each step.)
 *
 * @param logits `[N, V]` float scores.
 * @param targets `[N]` int64 class ids, −1 for positions that do not count.
 * @returns Scalar mean loss over counted positions.
 * @throws {RangeError} When the shapes do not fit.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { crossEntropy } from "./cross_entropy.ts";
 * const g = new Graph("ce");
 * const loss = crossEntropy(g.input("logits", "float32", [4, 10]), g.input("y", "int64", [4]));
 * console.assert(loss.shape.length === 0);
 * ```
 */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new RangeError(
      `Cannot build crossEntropy: logits [${logits.shape}] must be [N, V] and targets [${targets.shape}] must be [N]`,
    );
  }
  const g = logits.graph;
  return g.scope("cross_entropy", () => {
    const counts = greater(targets, -1); // [N] mₙ as bool
    const safe = where(counts, targets, g.scalar(0, "int64")); // padding reads column 0…
    const logp = logSoftmax(logits, -1); // [N, V]
    const picked = gatherElements(logp, unsqueeze(safe, [1]), 1); // [N, 1] log p(targetₙ)
    const m = cast(counts, logits.dtype); // [N]
    const total = reduceSum(mul(reduceSum(picked, [1]), m)); // …and is masked out here
    return neg(div(total, max(reduceSum(m), 1)));
  });
}
