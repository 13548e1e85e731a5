import { expand, mul } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { keepDims, reducedAxes } from "./_reduce.ts";

/** Y = mean_axes X. */
export const ReduceMean: GradRule<"ReduceMean"> = {
  op: "ReduceMean",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const shape = c.shapeOf(0), axes = reducedAxes(c);
    const n = axes.reduce((a, i) => a * shape[i]!, 1);
    // dX = broadcast(dY) / n
    return [expand(keepDims(mul(c.gradOfOutput(0)!, 1 / n), shape, axes), shape), null];
  },
};
