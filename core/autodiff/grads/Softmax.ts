import { mul, reduceSum, sub } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = softmax(X) along axis. */
export const Softmax: GradRule<"Softmax"> = {
  op: "Softmax",
  saves: { inputs: [], outputs: [0] },
  grad(c) {
    const dY = c.gradOfOutput(0)!, Y = c.output(0);
    const axis = c.attrs.axis ?? -1;
    // dX = Y ⊙ (dY − Σ_axis dY ⊙ Y)
    return [mul(Y, sub(dY, reduceSum(mul(dY, Y), [axis], true)))];
  },
};
