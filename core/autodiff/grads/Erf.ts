import { exp, mul, neg } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = erf X. */
export const Erf: GradRule<"Erf"> = {
  op: "Erf",
  saves: { inputs: [0], outputs: [] },
  grad(c) {
    const X = c.input(0);
    // dX = dY ⊙ 2/√π ⊙ exp(−X²)
    return [mul(c.gradOfOutput(0)!, mul(exp(neg(mul(X, X))), 2 / Math.sqrt(Math.PI)))];
  },
};
