import { expand } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { keepDims, reducedAxes } from "./_reduce.ts";

/** Y = Σ_axes X. */
export const ReduceSum: GradRule<"ReduceSum"> = {
  op: "ReduceSum",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const shape = c.shapeOf(0);
    // dX = broadcast(dY) over the reduced axes
    return [expand(keepDims(c.gradOfOutput(0)!, shape, reducedAxes(c)), shape), null];
  },
};
