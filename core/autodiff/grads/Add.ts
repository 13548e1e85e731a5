import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = A + B (broadcasting). */
export const Add: GradRule<"Add"> = {
  op: "Add",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    // dA = dY,  dB = dY  (each summed back to its input shape)
    return [0, 1].map((i) => (c.needsGradOfInput(i) ? unbroadcast(dY, c.shapeOf(i)) : null));
  },
};
