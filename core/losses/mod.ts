/**
 * Loss functions in graph form (differentiable by `core/autodiff`). Distillation losses
 * (forward/reverse KL) go beside cross-entropy here.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { crossEntropy } from "./mod.ts";
 * const g = new Graph("ce");
 * const loss = crossEntropy(g.input("z", "float32", [2, 5]), g.input("t", "int64", [2]));
 * console.assert(loss.rank === 0);
 * ```
 *
 * @module
 */
export * from "./cross_entropy.ts";
