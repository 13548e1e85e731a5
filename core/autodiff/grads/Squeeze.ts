import { reshape } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = squeeze(X, axes). */
export const Squeeze: GradRule<"Squeeze"> = {
  op: "Squeeze",
  saves: { inputs: [], outputs: [] },
  // dX = reshape(dY, shape(X))
  grad: (c) => [reshape(c.gradOfOutput(0)!, c.shapeOf(0)), null],
};
