import { mul, sub } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = tanh X. */
export const Tanh: GradRule<"Tanh"> = {
  op: "Tanh",
  saves: { inputs: [], outputs: [0] },
  grad(c) {
    const Y = c.output(0);
    // dX = dY ⊙ (1 − Y²)
    return [mul(c.gradOfOutput(0)!, sub(1, mul(Y, Y)))];
  },
};
