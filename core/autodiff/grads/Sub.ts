import { neg } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = A − B (broadcasting). */
export const Sub: GradRule<"Sub"> = {
  op: "Sub",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dA = dY
    const dA = c.needsGradOfInput(0) ? unbroadcast(dY, c.shapeOf(0)) : null;
    // dB = −dY
    const dB = c.needsGradOfInput(1) ? neg(unbroadcast(dY, c.shapeOf(1))) : null;
    return [dA, dB];
  },
};
