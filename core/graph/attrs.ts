import type { DType } from "./dtype.ts";

/** A one-element tensor attribute, e.g. `ConstantOfShape.value`. */
export interface ScalarTensor {
  dtype: DType;
  value: number;
}

type None = Record<never, never>;
type Reduce = { keepdims?: 0 | 1; noop_with_empty_axes?: 0 | 1 };

/**
 * Attributes of every op the builder emits, typed per op (ONNX operator docs, opset 18).
 * Inputs that became tensors in recent opsets (`axes`, `split`, `pads`, `starts`…) are inputs here.
 */
export interface OpAttrs {
  Add: None;
  Cast: { to: DType };
  Concat: { axis: number };
  ConstantOfShape: { value: ScalarTensor };
  Div: None;
  Equal: None;
  Erf: None;
  Exp: None;
  Expand: None;
  Gather: { axis?: number };
  GatherElements: { axis?: number };
  Gemm: { alpha?: number; beta?: number; transA?: 0 | 1; transB?: 0 | 1 };
  Greater: None;
  Identity: None;
  LayerNormalization: { axis?: number; epsilon?: number; stash_type?: number };
  Log: None;
  LogSoftmax: { axis?: number };
  MatMul: None;
  Max: None;
  Min: None;
  Mul: None;
  Neg: None;
  Pad: { mode?: "constant" };
  Pow: None;
  ReduceMax: Reduce;
  ReduceMean: Reduce;
  ReduceSum: Reduce;
  ReduceSumSquare: Reduce;
  Relu: None;
  Reshape: { allowzero?: 0 | 1 };
  ScatterElements: { axis?: number; reduction?: "none" | "add" };
  ScatterND: { reduction?: "none" | "add" };
  Slice: None;
  Softmax: { axis?: number };
  SoftmaxCrossEntropyLoss: { ignore_index?: number; reduction?: "mean" | "sum" | "none" };
  Split: { axis?: number };
  Sqrt: None;
  Squeeze: None;
  Sub: None;
  Tanh: None;
  TopK: { axis?: number; largest?: 0 | 1; sorted?: 0 | 1 };
  Transpose: { perm: number[] };
  Unsqueeze: None;
  Where: None;
}

/** Every op type the builder can emit. */
export type OpType = keyof OpAttrs;

/** How an attribute is encoded in `AttributeProto`. */
export type AttrKind = "int" | "float" | "ints" | "string" | "dtype" | "scalarTensor";

type Kinds<T> = { [A in keyof T]-?: AttrKind };
const R: Kinds<Reduce> = { keepdims: "int", noop_with_empty_axes: "int" };

/** The encoding of each attribute of each op; the type makes the table complete. */
export const ATTR_KINDS: { [K in OpType]: Kinds<OpAttrs[K]> } = {
  Add: {},
  Cast: { to: "dtype" },
  Concat: { axis: "int" },
  ConstantOfShape: { value: "scalarTensor" },
  Div: {},
  Equal: {},
  Erf: {},
  Exp: {},
  Expand: {},
  Gather: { axis: "int" },
  GatherElements: { axis: "int" },
  Gemm: { alpha: "float", beta: "float", transA: "int", transB: "int" },
  Greater: {},
  Identity: {},
  LayerNormalization: { axis: "int", epsilon: "float", stash_type: "int" },
  Log: {},
  LogSoftmax: { axis: "int" },
  MatMul: {},
  Max: {},
  Min: {},
  Mul: {},
  Neg: {},
  Pad: { mode: "string" },
  Pow: {},
  ReduceMax: R,
  ReduceMean: R,
  ReduceSum: R,
  ReduceSumSquare: R,
  Relu: {},
  Reshape: { allowzero: "int" },
  ScatterElements: { axis: "int", reduction: "string" },
  ScatterND: { reduction: "string" },
  Slice: {},
  Softmax: { axis: "int" },
  SoftmaxCrossEntropyLoss: { ignore_index: "int", reduction: "string" },
  Split: { axis: "int" },
  Sqrt: {},
  Squeeze: {},
  Sub: {},
  Tanh: {},
  TopK: { axis: "int", largest: "int", sorted: "int" },
  Transpose: { perm: "ints" },
  Unsqueeze: {},
  Where: {},
};
