/**
 * Static shape inference of ONNX ops. It reads only what it states below, not the graph builder,
 * so `graph.ts` depends on it and not the other way round.
 *
 * @module
 */
import type { OpAttrs, OpType } from "./attrs.ts";
import type { DType } from "./dtype.ts";
import { broadcastShapes, fmtShape, normAxis, type Shape, sizeOf } from "./shape.ts";

/** What inference reads of a node input (a graph `Tensor` is one): name, element type, shape. */
export interface InferInput {
  /** The value's name, for error messages and constant lookups. */
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  /** Number of dimensions. */
  readonly rank: number;
}

/**
 * The build-time values of a constant input (shapes, axes, pads), or `undefined` when the input
 * is not a constant.
 */
export type ConstValues = (t: InferInput) => number[] | undefined;

/** Inferred type and shape of one output. */
export interface OutputSpec {
  dtype: DType;
  shape: number[];
}

interface Ctx<K extends OpType> {
  op: K;
  ins: readonly (InferInput | null)[];
  attrs: OpAttrs[K];
  constValues: ConstValues;
  node: string;
  n: number;
}

function fail(c: Ctx<OpType>, what: string): never {
  const shapes = c.ins.map((t) => (t ? fmtShape(t.shape) : "none")).join(" and ");
  throw new RangeError(`Cannot build ${c.op} node "${c.node}" on shapes ${shapes}: ${what}`);
}

function arg(c: Ctx<OpType>, i: number): InferInput {
  const t = c.ins[i];
  if (!t) fail(c, `input ${i} is missing`);
  return t;
}

/** Values of a constant int input (shape, axes…), required at build time. */
function constArg(c: Ctx<OpType>, i: number): number[] {
  const v = c.constValues(arg(c, i));
  if (!v) fail(c, `input ${i} ("${arg(c, i).name}") must be a constant`);
  return v;
}

function optConst(c: Ctx<OpType>, i: number): number[] | undefined {
  return c.ins[i] ? constArg(c, i) : undefined;
}

function same(c: Ctx<OpType>): OutputSpec[] {
  const x = arg(c, 0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}

function broadcast(c: Ctx<OpType>, dtype?: DType): OutputSpec[] {
  const ins = c.ins.map((_, i) => arg(c, i));
  const shape = broadcastShapes(...ins.map((t) => t.shape));
  if (!shape) fail(c, "shapes do not broadcast");
  const first = c.op === "Where" ? ins[1]! : ins[0]!;
  return [{ dtype: dtype ?? first.dtype, shape }];
}

function reduce(
  c: Ctx<"ReduceSum" | "ReduceSumSquare" | "ReduceMean" | "ReduceMax">,
): OutputSpec[] {
  const x = arg(c, 0);
  const axes = (optConst(c, 1) ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.rank));
  const keep = (c.attrs.keepdims ?? 1) === 1;
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
}

function reshape(c: Ctx<"Reshape">): OutputSpec[] {
  const x = arg(c, 0);
  const spec = constArg(c, 1);
  const shape = spec.map((d, i) => (d === 0 ? x.shape[i] ?? fail(c, "0 past input rank") : d));
  const known = sizeOf(shape.filter((d) => d !== -1));
  const minus = shape.indexOf(-1);
  if (minus >= 0) shape[minus] = sizeOf(x.shape) / known;
  if (sizeOf(shape) !== sizeOf(x.shape) || !Number.isInteger(shape[minus] ?? 0)) {
    fail(c, `cannot reshape to ${fmtShape(spec)}`);
  }
  return [{ dtype: x.dtype, shape }];
}

function matMul(c: Ctx<"MatMul">): OutputSpec[] {
  const a = arg(c, 0), b = arg(c, 1);
  if (a.rank < 2 || b.rank < 2) fail(c, "MatMul needs rank ≥ 2 operands");
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) fail(c, `inner dimensions ${k} and ${k2} differ`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batch) fail(c, "batch dimensions do not broadcast");
  return [{ dtype: a.dtype, shape: [...batch, m, n] }];
}

function gemm(c: Ctx<"Gemm">): OutputSpec[] {
  const a = arg(c, 0), b = arg(c, 1);
  if (a.rank !== 2 || b.rank !== 2) fail(c, "Gemm needs 2-D A and B");
  const [m, k] = c.attrs.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = c.attrs.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) fail(c, `inner dimensions ${k} and ${k2} differ`);
  const cIn = c.ins[2];
  if (cIn && broadcastShapes(cIn.shape, [m, n])?.join() !== [m, n].join()) {
    fail(c, `C does not broadcast to [${m},${n}]`);
  }
  return [{ dtype: a.dtype, shape: [m, n] }];
}

function split(c: Ctx<"Split">): OutputSpec[] {
  const x = arg(c, 0);
  const axis = normAxis(c.attrs.axis ?? 0, x.rank);
  const sizes = constArg(c, 1);
  if (sizes.length !== c.n || sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
    fail(c, `split sizes ${fmtShape(sizes)} do not fill axis ${axis} in ${c.n} outputs`);
  }
  return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) }));
}

function concat(c: Ctx<"Concat">): OutputSpec[] {
  const x = arg(c, 0);
  const axis = normAxis(c.attrs.axis, x.rank);
  let total = 0;
  for (let i = 0; i < c.ins.length; i++) {
    const t = arg(c, i);
    if (t.rank !== x.rank || t.shape.some((d, j) => j !== axis && d !== x.shape[j])) {
      fail(c, `input ${i} does not match input 0 off axis ${axis}`);
    }
    total += t.shape[axis]!;
  }
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? total : d)) }];
}

function slice(c: Ctx<"Slice">): OutputSpec[] {
  const x = arg(c, 0);
  const starts = constArg(c, 1), ends = constArg(c, 2);
  const axes = optConst(c, 3) ?? starts.map((_, i) => i);
  const steps = optConst(c, 4) ?? starts.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((a0, i) => {
    const a = normAxis(a0, x.rank), d = x.shape[a]!, step = steps[i]!;
    if (step <= 0) fail(c, "only positive steps are supported");
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[i]!), e = clamp(ends[i]!);
    shape[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return [{ dtype: x.dtype, shape }];
}

function unsqueeze(c: Ctx<"Unsqueeze">): OutputSpec[] {
  const x = arg(c, 0);
  const rank = x.rank + constArg(c, 1).length;
  const axes = constArg(c, 1).map((a) => normAxis(a, rank));
  const rest = [...x.shape];
  const shape = Array.from({ length: rank }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
  return [{ dtype: x.dtype, shape }];
}

function squeeze(c: Ctx<"Squeeze">): OutputSpec[] {
  const x = arg(c, 0);
  const axes = (optConst(c, 1) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])))
    .map((a) => normAxis(a, x.rank));
  if (axes.some((a) => x.shape[a] !== 1)) fail(c, "squeezed axes must have size 1");
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
}

function gather(c: Ctx<"Gather">): OutputSpec[] {
  const x = arg(c, 0), idx = arg(c, 1);
  const axis = normAxis(c.attrs.axis ?? 0, x.rank);
  const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  return [{ dtype: x.dtype, shape }];
}

function layerNorm(c: Ctx<"LayerNormalization">): OutputSpec[] {
  const x = arg(c, 0);
  const axis = normAxis(c.attrs.axis ?? -1, x.rank);
  const stat = x.shape.map((d, i) => (i < axis ? d : 1));
  const normalized = x.shape.slice(axis);
  if (arg(c, 1).shape.join() !== normalized.join()) fail(c, "scale must match the normalized axes");
  const specs: OutputSpec[] = [
    { dtype: x.dtype, shape: [...x.shape] },
    { dtype: "float32", shape: stat },
    { dtype: "float32", shape: stat },
  ];
  return specs.slice(0, c.n);
}

function pad(c: Ctx<"Pad">): OutputSpec[] {
  const x = arg(c, 0), pads = constArg(c, 1);
  if (pads.length !== 2 * x.rank) fail(c, `pads needs ${2 * x.rank} values`);
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d + pads[i]! + pads[i + x.rank]!) }];
}

function softmaxCE(c: Ctx<"SoftmaxCrossEntropyLoss">): OutputSpec[] {
  const x = arg(c, 0), t = arg(c, 1);
  if (x.rank !== 2 || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
    fail(c, "scores must be [N, C] and labels [N]");
  }
  const loss = (c.attrs.reduction ?? "mean") === "none" ? [x.shape[0]!] : [];
  const specs: OutputSpec[] = [{ dtype: x.dtype, shape: loss }, {
    dtype: x.dtype,
    shape: [...x.shape],
  }];
  return specs.slice(0, c.n);
}

const RULES: { [K in OpType]: (c: Ctx<K>) => OutputSpec[] } = {
  Add: (c) => broadcast(c),
  Sub: (c) => broadcast(c),
  Mul: (c) => broadcast(c),
  Div: (c) => broadcast(c),
  Pow: (c) => broadcast(c, arg(c, 0).dtype),
  Min: (c) => broadcast(c),
  Max: (c) => broadcast(c),
  Equal: (c) => broadcast(c, "bool"),
  Greater: (c) => broadcast(c, "bool"),
  Where: (c) => broadcast(c),
  Neg: same,
  Sqrt: same,
  Exp: same,
  Log: same,
  Tanh: same,
  Erf: same,
  Relu: same,
  Identity: same,
  Softmax: same,
  SoftmaxCrossEntropyLoss: softmaxCE,
  LogSoftmax: same,
  ScatterND: same,
  Cast: (c) => [{ dtype: c.attrs.to, shape: [...arg(c, 0).shape] }],
  MatMul: matMul,
  Gemm: gemm,
  Reshape: reshape,
  TopK: (c) => {
    const x = arg(c, 0), [k] = constArg(c, 1);
    const axis = normAxis(c.attrs.axis ?? -1, x.rank);
    if (k === undefined || k < 1 || k > x.shape[axis]!) {
      fail(c, `k must be in [1, ${x.shape[axis]}]`);
    }
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    const specs: OutputSpec[] = [{ dtype: x.dtype, shape }, { dtype: "int64", shape: [...shape] }];
    return specs.slice(0, c.n);
  },
  Transpose: (c) => {
    const x = arg(c, 0);
    const perm = c.attrs.perm;
    if ([...perm].sort().join() !== x.shape.map((_, i) => i).join()) fail(c, `bad perm [${perm}]`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  Split: split,
  Concat: concat,
  Slice: slice,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: (c) => {
    const shape = broadcastShapes(arg(c, 0).shape, constArg(c, 1));
    if (!shape) fail(c, `cannot expand to ${fmtShape(constArg(c, 1))}`);
    return [{ dtype: arg(c, 0).dtype, shape }];
  },
  Gather: gather,
  GatherElements: (c) => {
    const x = arg(c, 0), idx = arg(c, 1);
    if (idx.rank !== x.rank) fail(c, "indices must have the rank of data");
    normAxis(c.attrs.axis ?? 0, x.rank);
    return [{ dtype: x.dtype, shape: [...idx.shape] }];
  },
  ScatterElements: same,
  LayerNormalization: layerNorm,
  ReduceSum: reduce,
  ReduceSumSquare: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ConstantOfShape: (c) => [{ dtype: c.attrs.value.dtype, shape: constArg(c, 0) }],
  Pad: pad,
};

/**
 * Infers the element type and shape of each output of a node from its inputs (ONNX operator
 * docs, opset 18). Shape-valued inputs (`Reshape.shape`, `axes`, `split`…) must be constants.
 *
 * @throws {RangeError} Naming the op, the node and the input shapes when they do not fit.
 */
export function inferOutputs<K extends OpType>(
  op: K,
  ins: readonly (InferInput | null)[],
  attrs: OpAttrs[K],
  constValues: ConstValues,
  node: string,
  n: number,
): OutputSpec[] {
  const rule = RULES[op] as (c: Ctx<K>) => OutputSpec[];
  return rule({ op, ins, attrs, constValues, node, n });
}
