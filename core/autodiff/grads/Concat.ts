import { normAxis, split } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = concat(X₀…Xₙ, axis). */
export const Concat: GradRule<"Concat"> = {
  op: "Concat",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const n = c.node.inputs.length;
    const axis = normAxis(c.attrs.axis, c.shapeOf(0).length);
    const sizes = Array.from({ length: n }, (_, i) => c.shapeOf(i)[axis]!);
    // dXᵢ = dY[…, offsetᵢ : offsetᵢ + sizeᵢ, …] along axis
    const parts = split(c.gradOfOutput(0)!, sizes, axis);
    return parts.map((p, i) => (c.needsGradOfInput(i) ? p : null));
  },
};
