/**
 * Small ONNX models written by hand with `onnx-proto`, independent of the graph builder: a raw
 * MatMul (the benchmark's yardstick) and two training steps (plain SGD, and Adam on linear
 * regression) used by the runtime's examples and tests.
 *
 * @module
 */
import onnx from "onnx-proto";

const P = onnx.onnx;
type Dim = number | string;

function valueInfo(name: string, dims: readonly Dim[], elemType = P.TensorProto.DataType.FLOAT) {
  const dim = dims.map((d) =>
    P.TensorShapeProto.Dimension.create(typeof d === "number" ? { dimValue: d } : { dimParam: d })
  );
  const tensorType = P.TypeProto.Tensor.create({
    elemType,
    shape: P.TensorShapeProto.create({ dim }),
  });
  return P.ValueInfoProto.create({ name, type: P.TypeProto.create({ tensorType }) });
}

function node(
  opType: string,
  input: string[],
  output: string[],
  ints: Record<string, number> = {},
) {
  const attribute = Object.entries(ints).map(([name, i]) =>
    P.AttributeProto.create({ name, i, type: P.AttributeProto.AttributeType.INT })
  );
  return P.NodeProto.create({ opType, input, output, attribute, name: output[0] ?? opType });
}

function constant(name: string, value: number) {
  return P.TensorProto.create({
    name,
    dims: [],
    dataType: P.TensorProto.DataType.FLOAT,
    floatData: [value],
  });
}

interface GraphParts {
  nodes: ReturnType<typeof node>[];
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  constants?: Record<string, number>;
}

function encode(name: string, parts: GraphParts): Uint8Array {
  const graph = P.GraphProto.create({
    name,
    node: parts.nodes,
    input: parts.inputs,
    output: parts.outputs,
    initializer: Object.entries(parts.constants ?? {}).map(([n, v]) => constant(n, v)),
  });
  const model = P.ModelProto.create({
    irVersion: 8,
    producerName: "moe",
    opsetImport: [P.OperatorSetIdProto.create({ domain: "", version: 17 })],
    graph,
  });
  return P.ModelProto.encode(model).finish();
}

/**
 * `c = a · b` for float32 `a` [m, k] and `b` [k, n].
 *
 * @param m Rows of `a`.
 * @param k Columns of `a`, rows of `b`.
 * @param n Columns of `b`.
 * @returns `ModelProto` bytes.
 *
 * @example
 * ```ts
 * import { matMulModel } from "./sample_models.ts";
 * console.assert(matMulModel(2, 3, 4).length > 0);
 * ```
 */
export function matMulModel(m: number, k: number, n: number): Uint8Array {
  return encode("matmul", {
    nodes: [node("MatMul", ["a", "b"], ["c"])],
    inputs: [valueInfo("a", [m, k]), valueInfo("b", [k, n])],
    outputs: [valueInfo("c", [m, n])],
  });
}

/**
 * One SGD step on `loss = ½‖w − x‖²`: `w_next = w − lr · (w − x)`. Inputs `w` [n], `x` [n],
 * `lr` []; outputs `loss` [], `w_next` [n].
 *
 * @param n Length of `w`.
 * @returns `ModelProto` bytes.
 *
 * @example
 * ```ts
 * import { sgdStepModel } from "./sample_models.ts";
 * console.assert(sgdStepModel(3).length > 0);
 * ```
 */
export function sgdStepModel(n: number): Uint8Array {
  return encode("sgd_step", {
    nodes: [
      node("Sub", ["w", "x"], ["grad"]), // dL/dw = w − x
      node("Mul", ["grad", "grad"], ["sq"]),
      node("ReduceSum", ["sq"], ["sum"], { keepdims: 0 }),
      node("Mul", ["sum", "half"], ["loss"]),
      node("Mul", ["lr", "grad"], ["delta"]),
      node("Sub", ["w", "delta"], ["w_next"]),
    ],
    inputs: [valueInfo("w", [n]), valueInfo("x", [n]), valueInfo("lr", [])],
    outputs: [valueInfo("loss", []), valueInfo("w_next", [n])],
    constants: { half: 0.5 },
  });
}

/** Adam's constants as the Adam sample model uses them. */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/**
 * One Adam step of least-squares linear regression, a small stand-in for a real training step
 * with three pieces of state and two scalars:
 *
 * ```text
 * r = X·w − y                      X [B, d], w [d, 1], y [B, 1]
 * loss = Σ r² / (2B)
 * g = Xᵀ·r / B
 * m' = β₁m + (1−β₁)g;  v' = β₂v + (1−β₂)g²
 * w' = w − lr · (m'/(1−β₁^step)) / (√(v'/(1−β₂^step)) + ε)
 * ```
 *
 * Inputs `w`, `m`, `v` [d, 1], `X` [B, d], `y` [B, 1], `lr` [], `step` [] (float, from 1);
 * outputs `loss`, `w_next`, `m_next`, `v_next`.
 *
 * @param batch B.
 * @param dim d.
 * @returns `ModelProto` bytes.
 *
 * @example
 * ```ts
 * import { adamRegressionModel } from "./sample_models.ts";
 * console.assert(adamRegressionModel(4, 3).length > 0);
 * ```
 */
export function adamRegressionModel(batch: number, dim: number): Uint8Array {
  return encode("adam_regression", {
    nodes: [
      node("MatMul", ["X", "w"], ["Xw"]), // [B, d]·[d, 1] → [B, 1]
      node("Sub", ["Xw", "y"], ["r"]),
      node("Mul", ["r", "r"], ["r2"]),
      node("ReduceSum", ["r2"], ["r2sum"], { keepdims: 0 }),
      node("Mul", ["r2sum", "half_over_B"], ["loss"]),
      node("Transpose", ["X"], ["Xt"]), // [B, d] → [d, B]
      node("MatMul", ["Xt", "r"], ["Xtr"]), // [d, B]·[B, 1] → [d, 1]
      node("Mul", ["Xtr", "one_over_B"], ["g"]),
      node("Mul", ["m", "beta1"], ["m_decay"]),
      node("Mul", ["g", "one_minus_beta1"], ["m_new"]),
      node("Add", ["m_decay", "m_new"], ["m_next"]),
      node("Mul", ["g", "g"], ["g2"]),
      node("Mul", ["v", "beta2"], ["v_decay"]),
      node("Mul", ["g2", "one_minus_beta2"], ["v_new"]),
      node("Add", ["v_decay", "v_new"], ["v_next"]),
      node("Pow", ["beta1", "step"], ["b1t"]),
      node("Sub", ["one", "b1t"], ["bc1"]),
      node("Pow", ["beta2", "step"], ["b2t"]),
      node("Sub", ["one", "b2t"], ["bc2"]),
      node("Div", ["m_next", "bc1"], ["m_hat"]),
      node("Div", ["v_next", "bc2"], ["v_hat"]),
      node("Sqrt", ["v_hat"], ["v_root"]),
      node("Add", ["v_root", "eps"], ["denom"]),
      node("Div", ["m_hat", "denom"], ["direction"]),
      node("Mul", ["lr", "direction"], ["delta"]),
      node("Sub", ["w", "delta"], ["w_next"]),
    ],
    inputs: [
      valueInfo("w", [dim, 1]),
      valueInfo("m", [dim, 1]),
      valueInfo("v", [dim, 1]),
      valueInfo("X", [batch, dim]),
      valueInfo("y", [batch, 1]),
      valueInfo("lr", []),
      valueInfo("step", []),
    ],
    outputs: [
      valueInfo("loss", []),
      valueInfo("w_next", [dim, 1]),
      valueInfo("m_next", [dim, 1]),
      valueInfo("v_next", [dim, 1]),
    ],
    constants: {
      half_over_B: 0.5 / batch,
      one_over_B: 1 / batch,
      one: 1,
      beta1: ADAM.beta1,
      beta2: ADAM.beta2,
      one_minus_beta1: 1 - ADAM.beta1,
      one_minus_beta2: 1 - ADAM.beta2,
      eps: ADAM.eps,
    },
  });
}

/** The state bindings of {@linkcode adamRegressionModel}. */
export const ADAM_BINDINGS = [
  { input: "w", output: "w_next" },
  { input: "m", output: "m_next" },
  { input: "v", output: "v_next" },
] as const;
