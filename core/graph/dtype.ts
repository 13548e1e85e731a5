/** Element types the builder knows, named as in onnxruntime-common's `Tensor.Type`. */
export type DType = "float32" | "float16" | "int64" | "int32" | "bool";

/** ONNX `TensorProto.DataType` code for each element type (onnx.proto3). */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/**
 * Whether a tensor of this element type can carry a gradient.
 *
 * @param dtype Element type.
 * @returns `true` for floating-point types.
 * @example
 * ```ts
 * import { isFloat } from "./dtype.ts";
 * console.assert(isFloat("float32") && !isFloat("int64"));
 * ```
 */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float16";
}
