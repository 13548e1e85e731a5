/**
 * Gradient-check cases: for every registered op, several shapes, broadcasting included.
 *
 * @module
 */
import {
  add,
  cast,
  concat,
  div,
  erf,
  exp,
  expand,
  gather,
  gatherElements,
  gemm,
  type Graph,
  identity,
  layerNorm,
  log,
  logSoftmax,
  matMul,
  max,
  min,
  mul,
  neg,
  type OpType,
  pow,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  slice,
  softmax,
  softmaxCrossEntropy,
  split,
  sqrt,
  squeeze,
  sub,
  tanh,
  transpose,
  unsqueeze,
  where,
} from "../../../core/graph/mod.ts";
import type { Built, Domain } from "../../_support/grad_check.ts";

/** One check: which op it covers, a readable label, and the graph. */
export interface GradCase {
  op: OpType;
  label: string;
  domain?: Domain;
  build(g: Graph): Built;
}

const f = (g: Graph, name: string, shape: number[]) => g.input(name, "float32", shape);

function binary(
  op: "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min",
  fn: (
    a: import("../../../core/graph/mod.ts").Tensor,
    b: import("../../../core/graph/mod.ts").Tensor,
  ) => import("../../../core/graph/mod.ts").Tensor,
): GradCase[] {
  const pairs: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3, 4], [3, 1]], [[4], [2, 3, 4]]];
  return pairs.map(([sa, sb]) => ({
    op,
    label: `[${sa}] ${op} [${sb}]`,
    domain: op === "Div" ? "awayFromZero" : "any",
    build: (g) => {
      const a = f(g, "a", sa), b = f(g, "b", sb);
      return { wrt: [a, b], ys: [fn(a, b)] };
    },
  }));
}

function unary(
  op: OpType,
  fn: (
    x: import("../../../core/graph/mod.ts").Tensor,
  ) => import("../../../core/graph/mod.ts").Tensor,
  domain: Domain = "any",
): GradCase[] {
  return [[5], [2, 3, 4]].map((s) => ({
    op,
    label: `${op} on [${s}]`,
    domain,
    build: (g) => {
      const x = f(g, "x", s);
      return { wrt: [x], ys: [fn(x)] };
    },
  }));
}

const gemmCases: GradCase[] = [[0, 0], [1, 0], [0, 1], [1, 1]].map(([tA, tB]) => ({
  op: "Gemm",
  label: `Gemm transA=${tA} transB=${tB} with C [4] and α, β`,
  build: (g) => {
    const a = f(g, "a", tA ? [5, 3] : [3, 5]), b = f(g, "b", tB ? [4, 5] : [5, 4]);
    const c = f(g, "c", tA ? [4] : [3, 1]);
    const y = gemm(a, b, c, { alpha: 0.7, beta: 1.3, transA: tA ? 1 : 0, transB: tB ? 1 : 0 });
    return { wrt: [a, b, c], ys: [y] };
  },
}));

const matMulCases: GradCase[] = ([
  [[3, 4], [4, 5]],
  [[2, 3, 4], [4, 5]],
  [[2, 1, 3, 4], [3, 4, 2]],
  [[2, 3, 4], [2, 4, 5]],
] as [number[], number[]][]).map(([sa, sb]) => ({
  op: "MatMul",
  label: `MatMul [${sa}] · [${sb}]`,
  build: (g) => {
    const a = f(g, "a", sa), b = f(g, "b", sb);
    return { wrt: [a, b], ys: [matMul(a, b)] };
  },
}));

const bool = (g: Graph, shape: number[], v: number[]) =>
  g.constant(Uint8Array.from(v), shape, "bool");

/** All cases, grouped by op. */
export const GRAD_CASES: GradCase[] = [
  ...matMulCases,
  ...gemmCases,
  ...binary("Add", add),
  ...binary("Sub", sub),
  ...binary("Mul", mul),
  ...binary("Div", div),
  ...binary("Max", max),
  ...binary("Min", min),
  ...unary("Neg", neg),
  ...unary("Sqrt", sqrt, "positive"),
  ...unary("Exp", exp),
  ...unary("Log", log, "positive"),
  ...unary("Tanh", tanh),
  ...unary("Erf", erf),
  ...unary("Relu", relu, "awayFromZero"),
  ...unary("Identity", identity),
  ...unary("Cast", (x) => cast(cast(x, "float16"), "float32")),
  {
    op: "Pow",
    label: "Pow [2,3] ^ [3] (base and exponent)",
    domain: "positive",
    build: (g) => {
      const a = f(g, "a", [2, 3]), b = f(g, "b", [3]);
      return { wrt: [a, b], ys: [pow(a, b)] };
    },
  },
  {
    op: "Pow",
    label: "Pow [4] ^ 3 (constant exponent)",
    domain: "positive",
    build: (g) => {
      const a = f(g, "a", [4]);
      return { wrt: [a], ys: [pow(a, 3)] };
    },
  },
  ...[[[2, 3, 4], [6, 4]], [[6], [2, 1, 3]]].map(([from, to]) => ({
    op: "Reshape" as const,
    label: `Reshape [${from}] → [${to}]`,
    build: (g: Graph) => {
      const x = f(g, "x", from!);
      return { wrt: [x], ys: [reshape(x, to!)] };
    },
  })),
  ...[[2, 0, 1], [1, 0, 2]].map((perm) => ({
    op: "Transpose" as const,
    label: `Transpose [2,3,4] by [${perm}]`,
    build: (g: Graph) => {
      const x = f(g, "x", [2, 3, 4]);
      return { wrt: [x], ys: [transpose(x, perm)] };
    },
  })),
  {
    op: "Split",
    label: "Split [2,6] into 1,2,3 on axis 1 with the middle piece unused",
    build: (g) => {
      const x = f(g, "x", [2, 6]);
      const [a, , c] = split(x, [1, 2, 3], 1);
      return { wrt: [x], ys: [a!, c!] };
    },
  },
  {
    op: "Split",
    label: "Split [4,3] into 2,2 on axis 0, both used",
    build: (g) => {
      const x = f(g, "x", [4, 3]);
      return { wrt: [x], ys: split(x, [2, 2], 0) };
    },
  },
  {
    op: "Concat",
    label: "Concat [2,3] and [2,1] on axis 1",
    build: (g) => {
      const a = f(g, "a", [2, 3]), b = f(g, "b", [2, 1]);
      return { wrt: [a, b], ys: [concat([a, b], 1)] };
    },
  },
  {
    op: "Concat",
    label: "Concat three [1,2,2] on axis 0",
    build: (g) => {
      const xs = ["a", "b", "c"].map((n) => f(g, n, [1, 2, 2]));
      return { wrt: xs, ys: [concat(xs, 0)] };
    },
  },
  {
    op: "Slice",
    label: "Slice [4,5] rows 1:3, cols 0:4",
    build: (g) => {
      const x = f(g, "x", [4, 5]);
      return { wrt: [x], ys: [slice(x, [1, 0], [3, 4])] };
    },
  },
  {
    op: "Slice",
    label: "Slice [2,6] last 3 of axis -1",
    build: (g) => {
      const x = f(g, "x", [2, 6]);
      return { wrt: [x], ys: [slice(x, [-3], [6], [-1])] };
    },
  },
  {
    op: "Unsqueeze",
    label: "Unsqueeze [2,3] at 0 and 3",
    build: (g) => {
      const x = f(g, "x", [2, 3]);
      return { wrt: [x], ys: [unsqueeze(x, [0, 3])] };
    },
  },
  {
    op: "Squeeze",
    label: "Squeeze [2,1,3,1] at 1 and 3",
    build: (g) => {
      const x = f(g, "x", [2, 1, 3, 1]);
      return { wrt: [x], ys: [squeeze(x, [1, 3])] };
    },
  },
  ...[[[3, 1], [2, 3, 4]], [[4], [3, 4]]].map(([from, to]) => ({
    op: "Expand" as const,
    label: `Expand [${from}] → [${to}]`,
    build: (g: Graph) => {
      const x = f(g, "x", from!);
      return { wrt: [x], ys: [expand(x, to!)] };
    },
  })),
  {
    op: "Gather",
    label: "Gather rows of [7,3] by [2,3] indices with repeats",
    build: (g) => {
      const x = f(g, "x", [7, 3]);
      const idx = g.constant(BigInt64Array.from([1, 2, 1, 6, 0, 1], BigInt), [2, 3], "int64");
      return { wrt: [x], ys: [gather(x, idx)] };
    },
  },
  {
    op: "GatherElements",
    label: "GatherElements of [4,5] on axis 1 by [4,2] indices with repeats",
    build: (g) => {
      const x = f(g, "x", [4, 5]);
      const idx = g.constant(BigInt64Array.from([0, 4, 2, 2, 1, 3, 4, 0], BigInt), [4, 2], "int64");
      return { wrt: [x], ys: [gatherElements(x, idx, 1)] };
    },
  },
  {
    op: "GatherElements",
    label: "GatherElements of [3,2] on axis 0 by [2,2] indices",
    build: (g) => {
      const x = f(g, "x", [3, 2]);
      const idx = g.constant(BigInt64Array.from([2, 0, 2, 1], BigInt), [2, 2], "int64");
      return { wrt: [x], ys: [gatherElements(x, idx, 0)] };
    },
  },
  {
    op: "LayerNormalization",
    label: "LayerNormalization of [2,3,5] over the last axis with scale and bias",
    build: (g) => {
      const x = f(g, "x", [2, 3, 5]), s = f(g, "s", [5]), b = f(g, "b", [5]);
      return { wrt: [x, s, b], ys: [layerNorm(x, s, b).y] };
    },
  },
  {
    op: "LayerNormalization",
    label: "LayerNormalization of [2,3,4] over axes 1..2 without bias",
    build: (g) => {
      const x = f(g, "x", [2, 3, 4]), s = f(g, "s", [3, 4]);
      return { wrt: [x, s], ys: [layerNorm(x, s, null, 1e-5, 1).y] };
    },
  },
  ...[-1, 1].flatMap((axis) => [
    {
      op: "Softmax" as const,
      label: `Softmax of [2,3,4] on axis ${axis}`,
      build: (g: Graph) => {
        const x = f(g, "x", [2, 3, 4]);
        return { wrt: [x], ys: [softmax(x, axis)] };
      },
    },
    {
      op: "LogSoftmax" as const,
      label: `LogSoftmax of [2,3,4] on axis ${axis}`,
      build: (g: Graph) => {
        const x = f(g, "x", [2, 3, 4]);
        return { wrt: [x], ys: [logSoftmax(x, axis)] };
      },
    },
  ]),
  ...(["mean", "sum", "none"] as const).map((reduction) => ({
    op: "SoftmaxCrossEntropyLoss" as const,
    label: `SoftmaxCrossEntropyLoss of [5,4] with ignore_index −1, reduction ${reduction}`,
    build: (g: Graph) => {
      const z = f(g, "z", [5, 4]);
      const t = g.constant(BigInt64Array.from([3n, -1n, 0n, 3n, 1n]), [5], "int64");
      const { loss, logProb } = softmaxCrossEntropy(z, t, { ignoreIndex: -1, reduction });
      return { wrt: [z], ys: reduction === "none" ? [loss] : [loss, logProb] };
    },
  })),
  {
    op: "SoftmaxCrossEntropyLoss",
    label: "SoftmaxCrossEntropyLoss of [3,6] without ignore_index",
    build: (g: Graph) => {
      const z = f(g, "z", [3, 6]);
      const t = g.constant(BigInt64Array.from([5n, 0n, 2n]), [3], "int64");
      return { wrt: [z], ys: [softmaxCrossEntropy(z, t).loss] };
    },
  },
  ...(["ReduceSum", "ReduceMean", "ReduceMax"] as const).flatMap((op) => {
    const fn = op === "ReduceSum" ? reduceSum : op === "ReduceMean" ? reduceMean : reduceMax;
    return [
      { axes: [1], keep: false },
      { axes: [0, 2], keep: true },
      { axes: undefined, keep: false },
    ].map(({ axes, keep }) => ({
      op,
      label: `${op} of [2,3,4] over ${axes ? `[${axes}]` : "all axes"} keepdims=${keep}`,
      build: (g: Graph) => {
        const x = f(g, "x", [2, 3, 4]);
        return { wrt: [x], ys: [fn(x, axes, keep)] };
      },
    }));
  }),
  {
    op: "Where",
    label: "Where with condition [2,3], A [2,3], B [3]",
    build: (g) => {
      const a = f(g, "a", [2, 3]), b = f(g, "b", [3]);
      return { wrt: [a, b], ys: [where(bool(g, [2, 3], [1, 0, 0, 1, 1, 0]), a, b)] };
    },
  },
  {
    op: "Where",
    label: "Where with condition [3,1] broadcast over A [3,4] and B [1]",
    build: (g) => {
      const a = f(g, "a", [3, 4]), b = f(g, "b", [1]);
      return { wrt: [a, b], ys: [where(bool(g, [3, 1], [1, 0, 1]), a, b)] };
    },
  },
];
