import { where } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = C ? A : B (broadcasting). */
export const Where: GradRule<"Where"> = {
  op: "Where",
  saves: { inputs: [0], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!, C = c.input(0);
    // dA = dY where C, else 0
    const dA = c.needsGradOfInput(1) ? unbroadcast(where(C, dY, 0), c.shapeOf(1)) : null;
    // dB = dY where ¬C, else 0
    const dB = c.needsGradOfInput(2) ? unbroadcast(where(C, 0, dY), c.shapeOf(2)) : null;
    return [null, dA, dB];
  },
};
