import type { GradRule } from "../rule.ts";

/** Y = X (a `stopGradient` Identity is skipped by the pass, not by this rule). */
export const Identity: GradRule<"Identity"> = {
  op: "Identity",
  saves: { inputs: [], outputs: [] },
  // dX = dY
  grad: (c) => [c.gradOfOutput(0)],
};
