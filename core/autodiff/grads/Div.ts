import { div, mul, neg } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = A / B (broadcasting). */
export const Div: GradRule<"Div"> = {
  op: "Div",
  saves: { inputs: [1], outputs: [0] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dA = dY / B
    const dA = c.needsGradOfInput(0) ? unbroadcast(div(dY, c.input(1)), c.shapeOf(0)) : null;
    // dB = −dY ⊙ A / B² = −dY ⊙ Y / B
    const dB = c.needsGradOfInput(1)
      ? unbroadcast(neg(div(mul(dY, c.output(0)), c.input(1))), c.shapeOf(1))
      : null;
    return [dA, dB];
  },
};
