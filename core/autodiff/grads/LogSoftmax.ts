import { exp, mul, reduceSum, sub } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = log softmax(X) along axis. */
export const LogSoftmax: GradRule<"LogSoftmax"> = {
  op: "LogSoftmax",
  saves: { inputs: [], outputs: [0] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    const axis = c.attrs.axis ?? -1;
    // dX = dY − exp(Y) ⊙ Σ_axis dY
    return [sub(dY, mul(exp(c.output(0)), reduceSum(dY, [axis], true)))];
  },
};
