/**
 * Optimization: AdamW with decoupled weight decay, bias correction and global-norm clipping,
 * assembled with the model's loss and its gradients into one training-step graph (or two graphs
 * for gradient accumulation) — or, on backends whose tensors live in host memory, a gradient graph
 * with the same AdamW applied on the host in place ({@linkcode HostAdamWStep}).
 *
 * @example
 * ```ts
 * import { mul, reduceSum } from "../graph/mod.ts";
 * import { ADAMW_DEFAULTS, buildTrainingStep } from "./mod.ts";
 * const step = buildTrainingStep("sq", (g) => {
 *   const w = g.parameter("w", [2], Float32Array.of(1, 2));
 *   return reduceSum(mul(w, w));
 * }, ADAMW_DEFAULTS);
 * console.assert(step.model.byteLength > 0 && step.initialState.has("w.adam_m"));
 * ```
 *
 * @module
 */
export * from "./adamw.ts";
export * from "./training_graph.ts";
export * from "./host_adamw.ts";
export * from "./host_adamw_step.ts";
