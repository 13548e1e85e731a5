import { div, mul } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = √X. */
export const Sqrt: GradRule<"Sqrt"> = {
  op: "Sqrt",
  saves: { inputs: [], outputs: [0] },
  // dX = dY / (2Y)
  grad: (c) => [div(c.gradOfOutput(0)!, mul(c.output(0), 2))],
};
