/**
 * Host tensors: plain typed arrays with a dtype and a shape, the form in which tensors enter and
 * leave a backend (data batches, checkpoints). Device tensors stay inside the backend.
 *
 * @module
 */

/** Element types the runtime moves between host and device (ONNX names, as onnxruntime uses). */
export type HostDType =
  | "float32"
  | "float64"
  | "float16"
  | "int32"
  | "int64"
  | "int8"
  | "uint8"
  | "bool";

/** The typed array that holds each {@linkcode HostDType}; `float16` is raw IEEE half bits. */
export interface HostDataMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** A tensor in host memory. `data.length` is the product of `dims` (1 for a scalar, `dims` = []). */
export type HostTensor = {
  [D in HostDType]: {
    readonly dtype: D;
    readonly dims: readonly number[];
    readonly data: HostDataMap[D];
  };
}[HostDType];

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<HostDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int32: 4,
  int64: 8,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Whether a string names a {@linkcode HostDType}. */
export function isHostDType(value: string): value is HostDType {
  return Object.hasOwn(BYTES_PER_ELEMENT, value);
}

/**
 * The number of elements of a shape (1 for a scalar).
 *
 * @param dims The shape.
 * @returns The product of the dimensions.
 *
 * @example
 * ```ts
 * import { sizeOf } from "./host_tensor.ts";
 * console.assert(sizeOf([2, 3]) === 6 && sizeOf([]) === 1);
 * ```
 */
export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * A float32 host tensor; checks that the data fills the shape.
 *
 * @param data The values, row-major.
 * @param dims The shape (default: a vector of `data.length`).
 * @returns The tensor.
 * @throws {RangeError} If `data.length` differs from the product of `dims`.
 *
 * @example
 * ```ts
 * import { float32 } from "./host_tensor.ts";
 * const t = float32([1, 2, 3, 4], [2, 2]);
 * console.assert(t.dtype === "float32" && t.data[3] === 4);
 * ```
 */
export function float32(data: ArrayLike<number>, dims?: readonly number[]): HostTensor {
  const shape = dims ?? [data.length];
  if (sizeOf(shape) !== data.length) {
    throw new RangeError(
      `Cannot make a tensor of shape [${shape.join(", ")}] from ${data.length} values`,
    );
  }
  return { dtype: "float32", dims: shape, data: Float32Array.from(data) };
}

/**
 * A scalar host tensor of the given dtype (for `lr`, `step` and other scalar graph inputs).
 *
 * @param value The value.
 * @param dtype Its element type (default float32).
 * @returns A tensor of shape [].
 *
 * @example
 * ```ts
 * import { scalar } from "./host_tensor.ts";
 * console.assert(scalar(3, "int64").data[0] === 3n);
 * ```
 */
export function scalar(value: number, dtype: HostDType = "float32"): HostTensor {
  switch (dtype) {
    case "float32":
      return { dtype, dims: [], data: Float32Array.of(value) };
    case "float64":
      return { dtype, dims: [], data: Float64Array.of(value) };
    case "int32":
      return { dtype, dims: [], data: Int32Array.of(value) };
    case "int64":
      return { dtype, dims: [], data: BigInt64Array.of(BigInt(Math.trunc(value))) };
    case "int8":
      return { dtype, dims: [], data: Int8Array.of(value) };
    case "uint8":
    case "bool":
      return { dtype, dims: [], data: Uint8Array.of(value) };
    case "float16":
      throw new RangeError("Cannot make a float16 scalar from a number; pass a HostTensor");
  }
}
