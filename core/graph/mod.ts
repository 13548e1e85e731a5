/**
 * Graph builder: a typed API over standard ONNX ops (opset 18, no contrib ops) with static shape
 * inference, constants, parameters and deterministic names, encoded to `ModelProto` bytes.
 *
 * @example
 * ```ts
 * import { encode, Graph, matMul, relu } from "./mod.ts";
 * const g = new Graph("mlp");
 * const x = g.input("x", "float32", [4, 3]);
 * const w = g.parameter("w", [3, 2], new Float32Array(6));
 * g.output(relu(matMul(x, w)), "y");
 * console.assert(encode(g).byteLength > 0);
 * ```
 *
 * @module
 */
export * from "./attrs.ts";
export * from "./dtype.ts";
export * from "./graph.ts";
export * from "./shape.ts";
export * from "./ops_math.ts";
export * from "./ops_shape.ts";
export * from "./encode.ts";
