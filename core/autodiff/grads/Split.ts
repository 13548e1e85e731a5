import { concat, full, normAxis } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y₀…Yₙ = split(X, sizes, axis). */
export const Split: GradRule<"Split"> = {
  op: "Split",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const axis = normAxis(c.attrs.axis ?? 0, c.shapeOf(0).length);
    // dX = concat(dY₀…dYₙ, axis), zeros for pieces nothing downstream used
    const pieces = c.node.outputs.map((y, i) => c.gradOfOutput(i) ?? full(y, y.shape, 0));
    return [concat(pieces, axis), null];
  },
};
