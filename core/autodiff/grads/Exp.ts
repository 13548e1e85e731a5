import { mul } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = eˣ. */
export const Exp: GradRule<"Exp"> = {
  op: "Exp",
  saves: { inputs: [], outputs: [0] },
  // dX = dY ⊙ Y
  grad: (c) => [mul(c.gradOfOutput(0)!, c.output(0))],
};
