/**
 * The registry of gradient rules: one per ONNX op, one file each under `grads/`.
 *
 * @module
 */
import type { OpType } from "../graph/mod.ts";
import type { AnyGradRule } from "./rule.ts";
import { Add } from "./grads/Add.ts";
import { Cast } from "./grads/Cast.ts";
import { Concat } from "./grads/Concat.ts";
import { Div } from "./grads/Div.ts";
import { Erf } from "./grads/Erf.ts";
import { Exp } from "./grads/Exp.ts";
import { Expand } from "./grads/Expand.ts";
import { Gather } from "./grads/Gather.ts";
import { GatherElements } from "./grads/GatherElements.ts";
import { Gemm } from "./grads/Gemm.ts";
import { Identity } from "./grads/Identity.ts";
import { LayerNormalization } from "./grads/LayerNormalization.ts";
import { Log } from "./grads/Log.ts";
import { LogSoftmax } from "./grads/LogSoftmax.ts";
import { MatMul } from "./grads/MatMul.ts";
import { Max } from "./grads/Max.ts";
import { Min } from "./grads/Min.ts";
import { Mul } from "./grads/Mul.ts";
import { Neg } from "./grads/Neg.ts";
import { Pow } from "./grads/Pow.ts";
import { ReduceMax } from "./grads/ReduceMax.ts";
import { ReduceMean } from "./grads/ReduceMean.ts";
import { ReduceSum } from "./grads/ReduceSum.ts";
import { Relu } from "./grads/Relu.ts";
import { Reshape } from "./grads/Reshape.ts";
import { Slice } from "./grads/Slice.ts";
import { Softmax } from "./grads/Softmax.ts";
import { SoftmaxCrossEntropyLoss } from "./grads/SoftmaxCrossEntropyLoss.ts";
import { Split } from "./grads/Split.ts";
import { Sqrt } from "./grads/Sqrt.ts";
import { Squeeze } from "./grads/Squeeze.ts";
import { Sub } from "./grads/Sub.ts";
import { Tanh } from "./grads/Tanh.ts";
import { Transpose } from "./grads/Transpose.ts";
import { Unsqueeze } from "./grads/Unsqueeze.ts";
import { Where } from "./grads/Where.ts";

/** Every registered rule. A test asserts one per op and a finite-difference check for each. */
export const GRAD_RULES: readonly AnyGradRule[] = [
  Add,
  Cast,
  Concat,
  Div,
  Erf,
  Exp,
  Expand,
  Gather,
  GatherElements,
  Gemm,
  Identity,
  LayerNormalization,
  Log,
  LogSoftmax,
  MatMul,
  Max,
  Min,
  Mul,
  Neg,
  Pow,
  ReduceMax,
  ReduceMean,
  ReduceSum,
  Relu,
  Reshape,
  Slice,
  Softmax,
  SoftmaxCrossEntropyLoss,
  Split,
  Sqrt,
  Squeeze,
  Sub,
  Tanh,
  Transpose,
  Unsqueeze,
  Where,
];

/** Ops whose outputs carry no gradient (comparisons, constants built from shapes). */
export const NON_DIFFERENTIABLE: readonly OpType[] = [
  "Equal",
  "Greater",
  "ConstantOfShape",
  "TopK",
];

const BY_OP = new Map<string, AnyGradRule>(GRAD_RULES.map((r) => [r.op, r]));

/**
 * The rule for an op type, if one is registered.
 *
 * @example
 * ```ts
 * import { gradRule } from "./registry.ts";
 * console.assert(gradRule("MatMul")?.op === "MatMul" && gradRule("Equal") === undefined);
 * ```
 */
export function gradRule(op: OpType): AnyGradRule | undefined {
  return BY_OP.get(op);
}
