import {
  add,
  concat,
  div,
  equal,
  exp,
  max,
  mul,
  neg,
  reduceSum,
  scatterND,
  sub,
  unsqueeze,
  where,
} from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/**
 * L = reduce_n wₙ · (−log p[n, tₙ]), p = softmax(Z) row-wise, wₙ = [tₙ ≠ ignore_index]; reduce is
 * Σ, Σ/Σw ("mean") or none. Only 2-D scores and no class weights.
 */
export const SoftmaxCrossEntropyLoss: GradRule<"SoftmaxCrossEntropyLoss"> = {
  op: "SoftmaxCrossEntropyLoss",
  saves: { inputs: [1], outputs: [1] },
  grad(c) {
    if (c.node.inputs[2] || c.node.outputs.length < 2) {
      throw new RangeError(
        `Cannot differentiate SoftmaxCrossEntropyLoss node "${c.node.name}": it needs no class weights and its log_prob output`,
      );
    }
    const dL = c.gradOfOutput(0)!, labels = c.input(1);
    const [n] = c.shapeOf(0) as [number, number];
    const g = c.graph;
    // Without ignore_index every label is a class id ≥ 0, so comparing with −1 ignores none.
    const ignored = equal(labels, g.scalar(c.attrs.ignore_index ?? -1, "int64")); // [N]
    const counted = where(ignored, 0, g.scalar(1, dL.dtype)); // wₙ, [N]
    const reduction = c.attrs.reduction ?? "mean";
    // sₙ = wₙ · dL (sum, none) or wₙ · dL / max(1, Σw) (mean)
    let s = mul(counted, dL);
    if (reduction === "mean") s = div(s, max(reduceSum(counted), 1));
    // dZ = sₙ · (p − onehot(tₙ)) = sₙ · exp(log p), then −sₙ scattered into column tₙ
    const soft = mul(exp(c.output(1)), unsqueeze(s, [1])); // [N, C]
    const rows = g.constant(
      BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
      [n, 1],
      "int64",
    );
    const safe = where(ignored, g.scalar(0, "int64"), labels); // ignored rows add 0 at column 0
    const at = concat([rows, unsqueeze(safe, [1])], 1); // [N, 2] = (n, tₙ)
    let dZ = scatterND(soft, at, neg(s), "add");
    const dLogP = c.gradOfOutput(1);
    if (dLogP) {
      // Through the log_prob output (as LogSoftmax): dZ += dLP − exp(log p) ⊙ Σ_c dLP
      dZ = add(dZ, sub(dLogP, mul(exp(c.output(1)), reduceSum(dLogP, [1], true))));
    }
    return [dZ, null, null];
  },
};
