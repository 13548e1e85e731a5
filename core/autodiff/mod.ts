/**
 * Reverse-mode automatic differentiation over `core/graph` graphs: one vector-Jacobian rule per
 * ONNX op (`grads/<Op>.ts`), a registry, and `gradients()`, which appends the backward nodes.
 *
 * @example
 * ```ts
 * import { Graph, mul, reduceSum } from "../graph/mod.ts";
 * import { gradients } from "./mod.ts";
 * const g = new Graph("g");
 * const x = g.input("x", "float32", [2]);
 * console.assert(gradients(reduceSum(mul(x, x)), [x]).has("x"));
 * ```
 *
 * @module
 */
export * from "./rule.ts";
export * from "./registry.ts";
export * from "./gradients.ts";
export * from "./unbroadcast.ts";
