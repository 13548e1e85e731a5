import { reduceSum, reshape, type Shape, type Tensor } from "../graph/mod.ts";

/**
 * Sums a gradient over the axes that broadcasting expanded, giving it the input's shape back.
 *
 * @param grad Gradient with the broadcast (output) shape.
 * @param shape Shape of the input before broadcasting.
 * @returns `grad` summed over leading extra axes and over axes where `shape` has 1.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { unbroadcast } from "./unbroadcast.ts";
 * const dy = new Graph("g").input("dy", "float32", [2, 3, 4]);
 * console.assert(unbroadcast(dy, [3, 1]).shape.join() === "3,1");
 * ```
 */
export function unbroadcast(grad: Tensor, shape: Shape): Tensor {
  if (grad.shape.join() === shape.join()) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(reduceSum(grad, axes, true), shape);
}
