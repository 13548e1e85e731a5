import { log, mul, pow, sub } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = A ^ B (broadcasting). */
export const Pow: GradRule<"Pow"> = {
  op: "Pow",
  saves: { inputs: [0, 1], outputs: [0] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    const A = c.input(0), B = c.input(1);
    // dA = dY ⊙ B ⊙ A^(B − 1)
    const dA = c.needsGradOfInput(0)
      ? unbroadcast(mul(dY, mul(B, pow(A, sub(B, 1)))), c.shapeOf(0))
      : null;
    // dB = dY ⊙ Y ⊙ ln A
    const dB = c.needsGradOfInput(1)
      ? unbroadcast(mul(dY, mul(c.output(0), log(A))), c.shapeOf(1))
      : null;
    return [dA, dB];
  },
};
