/**
 * Typed helpers over the math ops: each appends one node to the graph of its first tensor.
 * Number operands become shared scalar constants of the other operand's type.
 *
 * @module
 */
import type { OpAttrs } from "./attrs.ts";
import type { DType } from "./dtype.ts";
import type { Tensor } from "./graph.ts";

type Operand = Tensor | number;

function lift(a: Operand, like: Tensor): Tensor {
  return typeof a === "number" ? like.graph.scalar(a, like.dtype) : a;
}

function binary(
  op: "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Min" | "Max" | "Equal" | "Greater",
  a: Operand,
  b: Operand,
): Tensor {
  const like = typeof a === "number" ? b : a;
  if (typeof like === "number") throw new TypeError(`Cannot build ${op} of two numbers`);
  return like.graph.node(op, [lift(a, like), lift(b, like)], {})[0]!;
}

function unary(
  op: "Neg" | "Sqrt" | "Exp" | "Log" | "Tanh" | "Erf" | "Relu" | "Identity",
  x: Tensor,
): Tensor {
  return x.graph.node(op, [x], {})[0]!;
}

/**
 * `a + b` with broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { add } from "./ops_math.ts";
 * const x = new Graph("g").input("x", "float32", [2, 3]);
 * console.assert(add(x, 1).shape.join() === "2,3");
 * ```
 */
export const add = (a: Operand, b: Operand): Tensor => binary("Add", a, b);
/** `a − b` with broadcasting. */
export const sub = (a: Operand, b: Operand): Tensor => binary("Sub", a, b);
/** `a · b` elementwise with broadcasting. */
export const mul = (a: Operand, b: Operand): Tensor => binary("Mul", a, b);
/** `a / b` with broadcasting. */
export const div = (a: Operand, b: Operand): Tensor => binary("Div", a, b);
/** `a ^ b` with broadcasting. */
export const pow = (a: Operand, b: Operand): Tensor => binary("Pow", a, b);
/** Elementwise minimum. */
export const min = (a: Operand, b: Operand): Tensor => binary("Min", a, b);
/** Elementwise maximum. */
export const max = (a: Operand, b: Operand): Tensor => binary("Max", a, b);
/** `a == b` as bool. */
export const equal = (a: Operand, b: Operand): Tensor => binary("Equal", a, b);
/** `a > b` as bool. */
export const greater = (a: Operand, b: Operand): Tensor => binary("Greater", a, b);
/** `−x`. */
export const neg = (x: Tensor): Tensor => unary("Neg", x);
/** `√x`. */
export const sqrt = (x: Tensor): Tensor => unary("Sqrt", x);
/** `eˣ`. */
export const exp = (x: Tensor): Tensor => unary("Exp", x);
/** `ln x`. */
export const log = (x: Tensor): Tensor => unary("Log", x);
/** `tanh x`. */
export const tanh = (x: Tensor): Tensor => unary("Tanh", x);
/** Gauss error function. */
export const erf = (x: Tensor): Tensor => unary("Erf", x);
/** `max(x, 0)`. */
export const relu = (x: Tensor): Tensor => unary("Relu", x);
/** A copy of `x` (renames, graph outputs). */
export const identity = (x: Tensor): Tensor => unary("Identity", x);

/** Batched matrix product `[..., M, K] · [..., K, N] → [..., M, N]`. */
export function matMul(a: Tensor, b: Tensor): Tensor {
  return a.graph.node("MatMul", [a, b], {})[0]!;
}

/** `alpha · A′ · B′ + beta · C` on 2-D operands (`′` = transposed when the flag is set). */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null, attrs: OpAttrs["Gemm"] = {}): Tensor {
  return a.graph.node("Gemm", c ? [a, b, c] : [a, b], attrs)[0]!;
}

function reduce(
  op: "ReduceSum" | "ReduceSumSquare" | "ReduceMean" | "ReduceMax",
  x: Tensor,
  axes: readonly number[] | undefined,
  keepdims: boolean,
): Tensor {
  if (axes && axes.length === 0) return x;
  const ins = axes ? [x, x.graph.ints(axes)] : [x];
  return x.graph.node(op, ins, { keepdims: keepdims ? 1 : 0 })[0]!;
}

/** Sum over `axes` (all when omitted). */
export const reduceSum = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceSum", x, axes, keepdims);
/** Sum of squares over `axes` (all when omitted): one pass, no squared copy. */
export const reduceSumSquare = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceSumSquare", x, axes, keepdims);
/** Mean over `axes` (all when omitted). */
export const reduceMean = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceMean", x, axes, keepdims);
/** Maximum over `axes` (all when omitted). */
export const reduceMax = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor =>
  reduce("ReduceMax", x, axes, keepdims);

/** Softmax along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return x.graph.node("Softmax", [x], { axis })[0]!;
}

/** Log-softmax along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.graph.node("LogSoftmax", [x], { axis })[0]!;
}

/**
 * LayerNormalization over the axes from `axis` on (ONNX opset 17). Also returns the saved
 * mean and inverse standard deviation, which the gradient reuses.
 */
export function layerNorm(
  x: Tensor,
  scale: Tensor,
  bias: Tensor | null,
  epsilon = 1e-5,
  axis = -1,
): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const ins = bias ? [x, scale, bias] : [x, scale];
  const [y, mean, invStd] = x.graph.node("LayerNormalization", ins, { axis, epsilon }, {
    outputs: 3,
  });
  return { y: y!, mean: mean!, invStd: invStd! };
}

/** `cond ? a : b` elementwise with broadcasting. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const like = typeof a === "number" ? b : a;
  if (typeof like === "number") throw new TypeError("Cannot build Where of two numbers");
  return cond.graph.node("Where", [cond, lift(a, like), lift(b, like)], {})[0]!;
}

/** Converts the element type. */
export function cast(x: Tensor, to: DType): Tensor {
  return x.dtype === to ? x : x.graph.node("Cast", [x], { to })[0]!;
}

/**
 * ONNX `SoftmaxCrossEntropyLoss` (opset 13) on `[N, C]` scores and `[N]` int64 labels: one fused
 * kernel for `−log softmax(scores)[label]`, reduced by `reduction`; labels equal to
 * `ignoreIndex` do not count. Also returns the log-probabilities, which the gradient reuses.
 */
export function softmaxCrossEntropy(
  scores: Tensor,
  labels: Tensor,
  opts: { ignoreIndex?: number; reduction?: "mean" | "sum" | "none" } = {},
): { loss: Tensor; logProb: Tensor } {
  const attrs: OpAttrs["SoftmaxCrossEntropyLoss"] = { reduction: opts.reduction ?? "mean" };
  if (opts.ignoreIndex !== undefined) attrs.ignore_index = opts.ignoreIndex;
  const [loss, logProb] = scores.graph.node("SoftmaxCrossEntropyLoss", [scores, labels], attrs, {
    outputs: 2,
  });
  return { loss: loss!, logProb: logProb! };
}

/**
 * The `k` largest entries along `axis` (sorted, largest first) and their int64 indices. Not
 * differentiable: it selects, it does not compute (the teacher cache keeps its top-k).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { topK } from "./ops_math.ts";
 * const [values, indices] = topK(new Graph("g").input("x", "float32", [2, 10]), 3);
 * console.assert(values.shape.join() === "2,3" && indices.dtype === "int64");
 * ```
 */
export function topK(x: Tensor, k: number, axis = -1): [values: Tensor, indices: Tensor] {
  const [values, indices] = x.graph.node("TopK", [x, x.graph.ints([k])], {
    axis,
    largest: 1,
    sorted: 1,
  }, { outputs: 2 });
  return [values!, indices!];
}
