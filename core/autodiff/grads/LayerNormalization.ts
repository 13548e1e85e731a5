import { mul, normAxis, reduceMean, reduceSum, sub } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/**
 * Y = x̂ ⊙ scale + bias, x̂ = (X − μ) ⊙ σ⁻¹ over the axes from `axis` on (ONNX opset 17). Reuses the
 * op's saved Mean (μ) and InvStdDev (σ⁻¹) outputs instead of recomputing them.
 */
export const LayerNormalization: GradRule<"LayerNormalization"> = {
  op: "LayerNormalization",
  saves: { inputs: [0, 1], outputs: [1, 2] },
  grad(c) {
    if (c.node.outputs.length < 3) {
      throw new RangeError(
        `Cannot differentiate LayerNormalization node "${c.node.name}": it needs its Mean and InvStdDev outputs`,
      );
    }
    const dY = c.gradOfOutput(0)!;
    const rank = c.shapeOf(0).length;
    const axis = normAxis(c.attrs.axis ?? -1, rank);
    const outer = Array.from({ length: axis }, (_, i) => i);
    const inner = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const invStd = c.output(2);
    // x̂ = (X − μ) ⊙ σ⁻¹
    const xhat = mul(sub(c.input(0), c.output(1)), invStd);
    let dX = null;
    if (c.needsGradOfInput(0)) {
      // g = dY ⊙ scale
      const g = mul(dY, c.input(1));
      // dX = σ⁻¹ ⊙ (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂))   (means over the normalized axes)
      const centered = sub(g, reduceMean(g, inner, true));
      dX = mul(invStd, sub(centered, mul(xhat, reduceMean(mul(g, xhat), inner, true))));
    }
    // dScale = Σ_outer dY ⊙ x̂
    const dScale = c.needsGradOfInput(1) ? reduceSum(mul(dY, xhat), outer) : null;
    // dBias = Σ_outer dY
    const dBias = c.needsGradOfInput(2) ? reduceSum(dY, outer) : null;
    return [dX, dScale, dBias];
  },
};
