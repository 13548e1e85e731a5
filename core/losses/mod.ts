/**
 * Loss functions in graph form (differentiable by `core/autodiff`): next-token cross-entropy,
 * forward and reverse KL for knowledge distillation (from teacher logits or a top-k cache), the
 * combined distillation objective. Their float64 twins, which the tests check them against, live in
 * `tests/_support/loss_reference.ts`.
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
export * from "./kl.ts";
export * from "./distillation_loss.ts";
