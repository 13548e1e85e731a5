import { mul } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = A ⊙ B (broadcasting). */
export const Mul: GradRule<"Mul"> = {
  op: "Mul",
  saves: { inputs: [0, 1], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dA = dY ⊙ B
    const dA = c.needsGradOfInput(0) ? unbroadcast(mul(dY, c.input(1)), c.shapeOf(0)) : null;
    // dB = dY ⊙ A
    const dB = c.needsGradOfInput(1) ? unbroadcast(mul(dY, c.input(0)), c.shapeOf(1)) : null;
    return [dA, dB];
  },
};
