import { reshape } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = unsqueeze(X, axes). */
export const Unsqueeze: GradRule<"Unsqueeze"> = {
  op: "Unsqueeze",
  saves: { inputs: [], outputs: [] },
  // dX = reshape(dY, shape(X))
  grad: (c) => [reshape(c.gradOfOutput(0)!, c.shapeOf(0)), null],
};
