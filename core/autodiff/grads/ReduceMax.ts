import { cast, div, equal, mul, reduceSum } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { keepDims, reducedAxes } from "./_reduce.ts";

/** Y = max_axes X. */
export const ReduceMax: GradRule<"ReduceMax"> = {
  op: "ReduceMax",
  saves: { inputs: [0], outputs: [0] },
  grad(c) {
    const X = c.input(0), shape = c.shapeOf(0), axes = reducedAxes(c);
    // mask = [X = max], ties share the gradient equally
    const mask = cast(equal(X, keepDims(c.output(0), shape, axes)), X.dtype);
    const share = div(mask, reduceSum(mask, axes, true));
    // dX = dY ⊙ mask / |mask|
    return [mul(share, keepDims(c.gradOfOutput(0)!, shape, axes)), null];
  },
};
