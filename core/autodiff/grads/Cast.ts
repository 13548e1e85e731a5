import { cast, isFloat } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = cast(X): float → float casts pass the gradient back in X's type; others have none. */
export const Cast: GradRule<"Cast"> = {
  op: "Cast",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dX = cast(dY, dtype(X))
    return [isFloat(c.dtypeOf(0)) && isFloat(dY.dtype) ? cast(dY, c.dtypeOf(0)) : null];
  },
};
