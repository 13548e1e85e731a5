import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = expand(X, shape) (broadcast). */
export const Expand: GradRule<"Expand"> = {
  op: "Expand",
  saves: { inputs: [], outputs: [] },
  // dX = dY summed over the broadcast axes
  grad: (c) => [unbroadcast(c.gradOfOutput(0)!, c.shapeOf(0)), null],
};
