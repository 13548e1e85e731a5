import { neg } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = −X. */
export const Neg: GradRule<"Neg"> = {
  op: "Neg",
  saves: { inputs: [], outputs: [] },
  // dX = −dY
  grad: (c) => [neg(c.gradOfOutput(0)!)],
};
