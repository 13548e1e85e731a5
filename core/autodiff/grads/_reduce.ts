import { normAxis, reshape, type Shape, type Tensor } from "../../graph/mod.ts";
import type { GradContext } from "../rule.ts";

/** Reduced axes of a Reduce* node (all when the `axes` input is absent). */
export function reducedAxes(c: GradContext<"ReduceSum" | "ReduceMean" | "ReduceMax">): number[] {
  const shape = c.shapeOf(0);
  const t = c.node.inputs[1];
  const axes = t ? c.graph.constValues(t) : shape.map((_, i) => i);
  if (!axes) throw new RangeError(`Cannot differentiate "${c.node.name}": axes must be constant`);
  return axes.map((a) => normAxis(a, shape.length));
}

/** The reduced output reshaped to keep-dims form so that it broadcasts against the input. */
export function keepDims(t: Tensor, input: Shape, axes: readonly number[]): Tensor {
  return reshape(t, input.map((d, i) => (axes.includes(i) ? 1 : d)));
}
