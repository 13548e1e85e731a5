import { full, scatterND, unsqueeze } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = data[indices] along axis 0 (embedding lookup). */
export const Gather: GradRule<"Gather"> = {
  op: "Gather",
  saves: { inputs: [1], outputs: [] },
  grad(c) {
    if ((c.attrs.axis ?? 0) !== 0) {
      throw new RangeError(
        `Cannot differentiate Gather node "${c.node.name}": only axis 0 is supported`,
      );
    }
    const dY = c.gradOfOutput(0)!;
    const zeros = full(dY, c.shapeOf(0), 0);
    // dData[v] = Σ_{p : indices[p] = v} dY[p]  — a scatter-add, O(tokens · d), not O(V · tokens)
    const idx = unsqueeze(c.input(1), [c.input(1).rank]);
    return [scatterND(zeros, idx, dY, "add"), null];
  },
};
