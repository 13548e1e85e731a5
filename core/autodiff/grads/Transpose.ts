import { transpose } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = transpose(X, perm): Y axis i is X axis perm[i]. */
export const Transpose: GradRule<"Transpose"> = {
  op: "Transpose",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const perm = c.attrs.perm;
    const inverse = perm.map((_, i) => perm.indexOf(i));
    // dX = transpose(dY, perm⁻¹)
    return [transpose(c.gradOfOutput(0)!, inverse)];
  },
};
