import { greater, where } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = min(A, B) (broadcasting); a tie sends the gradient to A. */
export const Min: GradRule<"Min"> = {
  op: "Min",
  saves: { inputs: [0, 1], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    const bWins = greater(c.input(0), c.input(1));
    // dA = dY where A ≤ B, else 0
    const dA = c.needsGradOfInput(0) ? unbroadcast(where(bWins, 0, dY), c.shapeOf(0)) : null;
    // dB = dY where B < A, else 0
    const dB = c.needsGradOfInput(1) ? unbroadcast(where(bWins, dY, 0), c.shapeOf(1)) : null;
    return [dA, dB];
  },
};
