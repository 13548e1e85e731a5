import { reshape } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = reshape(X, shape). */
export const Reshape: GradRule<"Reshape"> = {
  op: "Reshape",
  saves: { inputs: [], outputs: [] },
  // dX = reshape(dY, shape(X)); the shape input gets none
  grad: (c) => [reshape(c.gradOfOutput(0)!, c.shapeOf(0)), null],
};
