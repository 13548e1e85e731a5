import { full, scatterElements } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y[…, i, …] = X[…, indices[…, i, …], …] along axis (e.g. picking each row's target). */
export const GatherElements: GradRule<"GatherElements"> = {
  op: "GatherElements",
  saves: { inputs: [1], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dX = scatter-add of dY into zeros at the gathered positions
    const zeros = full(dY, c.shapeOf(0), 0);
    return [scatterElements(zeros, c.input(1), dY, c.attrs.axis ?? 0, "add"), null];
  },
};
