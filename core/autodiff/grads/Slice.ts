import { normAxis, pad } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";

/** Y = X[starts:ends] along axes (step 1). */
export const Slice: GradRule<"Slice"> = {
  op: "Slice",
  saves: { inputs: [], outputs: [] },
  grad(c) {
    const shape = c.shapeOf(0), rank = shape.length;
    const consts = [1, 2, 3, 4].map((i) => {
      const t = c.node.inputs[i];
      return t ? c.graph.constValues(t) : undefined;
    });
    const [starts, , axes, steps] = consts;
    if (!starts || steps?.some((s) => s !== 1)) {
      throw new RangeError(
        `Cannot differentiate Slice node "${c.node.name}": needs constant starts and step 1`,
      );
    }
    const pads = new Array<number>(2 * rank).fill(0);
    const dY = c.gradOfOutput(0)!;
    (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
      const a = normAxis(a0, rank), d = shape[a]!;
      const s = Math.min(Math.max(starts[i]! < 0 ? starts[i]! + d : starts[i]!, 0), d);
      pads[a] = s;
      pads[a + rank] = d - s - dY.shape[a]!;
    });
    // dX = zero-pad(dY) back to X's extent
    return [pad(dY, pads), null, null, null, null];
  },
};
