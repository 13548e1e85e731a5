import { greater, where } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = max(X, 0). */
export const Relu: GradRule<"Relu"> = {
  op: "Relu",
  saves: { inputs: [], outputs: [0] },
  // dX = dY where Y > 0 (⇔ X > 0), else 0
  grad: (c) => [where(greater(c.output(0), 0), c.gradOfOutput(0)!, 0)],
};
