import { div } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = ln X. */
export const Log: GradRule<"Log"> = {
  op: "Log",
  saves: { inputs: [0], outputs: [] },
  // dX = dY / X
  grad: (c) => [div(c.gradOfOutput(0)!, c.input(0))],
};
