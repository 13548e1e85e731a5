/**
 * A float64 reference interpreter for `core/graph` graphs, used only by tests: every value is a
 * `Float64Array` (ints and bools too), so finite differences are exact to ~1e-10.
 *
 * @module
 */
import { type Graph, type Node, normAxis, sizeOf, type Tensor } from "../../core/graph/mod.ts";
import { erf } from "./erf.ts";
import {
  type Arr,
  arr,
  elementwise,
  lanes,
  matMul,
  placeAxis,
  reduce,
  sliceAxis,
  stridesOf,
  transpose,
} from "./reference_kernels.ts";

export { type Arr, arr };

type Run = (n: Node, ins: (Arr | null)[], outShapes: number[][]) => Arr[];
const ints = (a: Arr | null | undefined) => (a ? Array.from(a.data) : undefined);
const softmax = (l: number[]) => {
  const m = Math.max(...l), e = l.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
};

const OPS: Record<string, Run> = {
  Add: (_, i) => [elementwise(i as Arr[], (a, b) => a! + b!)],
  Sub: (_, i) => [elementwise(i as Arr[], (a, b) => a! - b!)],
  Mul: (_, i) => [elementwise(i as Arr[], (a, b) => a! * b!)],
  Div: (_, i) => [elementwise(i as Arr[], (a, b) => a! / b!)],
  Pow: (_, i) => [elementwise(i as Arr[], (a, b) => Math.pow(a!, b!))],
  Min: (_, i) => [elementwise(i as Arr[], (a, b) => Math.min(a!, b!))],
  Max: (_, i) => [elementwise(i as Arr[], (a, b) => Math.max(a!, b!))],
  Equal: (_, i) => [elementwise(i as Arr[], (a, b) => (a === b ? 1 : 0))],
  Greater: (_, i) => [elementwise(i as Arr[], (a, b) => (a! > b! ? 1 : 0))],
  Where: (_, i) => [elementwise(i as Arr[], (c, a, b) => (c ? a! : b!))],
  Neg: (_, i) => [elementwise([i[0]!], (a) => -a!)],
  Sqrt: (_, i) => [elementwise([i[0]!], (a) => Math.sqrt(a!))],
  Exp: (_, i) => [elementwise([i[0]!], (a) => Math.exp(a!))],
  Log: (_, i) => [elementwise([i[0]!], (a) => Math.log(a!))],
  Tanh: (_, i) => [elementwise([i[0]!], (a) => Math.tanh(a!))],
  Erf: (_, i) => [elementwise([i[0]!], (a) => erf(a!))],
  Relu: (_, i) => [elementwise([i[0]!], (a) => Math.max(a!, 0))],
  Identity: (_, i) => [i[0]!],
  Cast: (n, i) => {
    const to = n.op === "Cast" ? n.attrs.to : "float32";
    const f = to === "bool"
      ? (a: number) => (a ? 1 : 0)
      : to.startsWith("int")
      ? Math.trunc
      : (a: number) => a;
    return [elementwise([i[0]!], (a) => f(a!))];
  },
  MatMul: (_, i) => [matMul(i[0]!, i[1]!)],
  Gemm: (n, i) => {
    const at = n.op === "Gemm" ? n.attrs : {};
    const A = at.transA ? transpose(i[0]!, [1, 0]) : i[0]!;
    const B = at.transB ? transpose(i[1]!, [1, 0]) : i[1]!;
    let y = elementwise([matMul(A, B)], (v) => v! * (at.alpha ?? 1));
    if (i[2]) y = elementwise([y, i[2]], (v, c) => v! + c! * (at.beta ?? 1));
    return [y];
  },
  Reshape: (_, i, s) => [{ shape: s[0]!, data: i[0]!.data }],
  Squeeze: (_, i, s) => [{ shape: s[0]!, data: i[0]!.data }],
  Unsqueeze: (_, i, s) => [{ shape: s[0]!, data: i[0]!.data }],
  Expand: (_, i, s) => [elementwise([i[0]!, arr(s[0]!)], (a) => a!)],
  ConstantOfShape: (n, _, s) => {
    const v = n.op === "ConstantOfShape" ? n.attrs.value.value : 0;
    return [arr(s[0]!, new Array<number>(sizeOf(s[0]!)).fill(v))];
  },
  Transpose: (n, i) => [transpose(i[0]!, n.op === "Transpose" ? n.attrs.perm : [])],
  Split: (n, i, s) => {
    const axis = normAxis(n.op === "Split" ? n.attrs.axis ?? 0 : 0, i[0]!.shape.length);
    let start = 0;
    return s.map((shape) => {
      const p = sliceAxis(i[0]!, axis, start, shape[axis]!);
      start += shape[axis]!;
      return p;
    });
  },
  Concat: (n, i, s) => {
    const axis = normAxis(n.op === "Concat" ? n.attrs.axis : 0, i[0]!.shape.length);
    const out = arr(s[0]!);
    let start = 0;
    for (const x of i) {
      placeAxis(out, x!, axis, start);
      start += x!.shape[axis]!;
    }
    return [out];
  },
  Slice: (_, i, s) => {
    const x = i[0]!, starts = ints(i[1])!, axes = ints(i[3]) ?? starts.map((_, k) => k);
    let y = x;
    axes.forEach((a0, k) => {
      const a = normAxis(a0, x.shape.length), d = x.shape[a]!;
      const st = Math.min(Math.max(starts[k]! < 0 ? starts[k]! + d : starts[k]!, 0), d);
      y = sliceAxis(y, a, st, s[0]![a]!);
    });
    return [y];
  },
  Pad: (_, i, s) => {
    const x = i[0]!, pads = ints(i[1])!, out = arr(s[0]!);
    const os = stridesOf(out.shape), xs = stridesOf(x.shape);
    for (let k = 0; k < x.data.length; k++) {
      let off = 0;
      for (let a = 0; a < x.shape.length; a++) {
        off += (Math.floor(k / xs[a]!) % x.shape[a]! + pads[a]!) * os[a]!;
      }
      out.data[off] = x.data[k]!;
    }
    return [out];
  },
  Gather: (n, i, s) => {
    const x = i[0]!,
      idx = i[1]!,
      axis = normAxis(n.op === "Gather" ? n.attrs.axis ?? 0 : 0, x.shape.length);
    const parts = Array.from(
      idx.data,
      (v) => sliceAxis(x, axis, v < 0 ? v + x.shape[axis]! : v, 1),
    );
    const out = arr(s[0]!);
    const inner = sizeOf(x.shape.slice(axis + 1)), outer = sizeOf(x.shape.slice(0, axis));
    parts.forEach((p, j) => {
      for (let o = 0; o < outer; o++) {
        for (let q = 0; q < inner; q++) {
          out.data[(o * parts.length + j) * inner + q] = p.data[o * inner + q]!;
        }
      }
    });
    return [out];
  },
  GatherElements: (n, i, s) => elementsAlong(n, i, s[0]!, false),
  ScatterElements: (n, i, s) => elementsAlong(n, i, s[0]!, true),
  ScatterND: (n, i) => {
    const data = i[0]!, idx = i[1]!, upd = i[2]!;
    const add = n.op === "ScatterND" && n.attrs.reduction === "add";
    const out = arr(data.shape, data.data);
    const q = idx.shape[idx.shape.length - 1]!, ds = stridesOf(data.shape);
    const slice = sizeOf(data.shape.slice(q)), count = idx.data.length / q;
    for (let j = 0; j < count; j++) {
      let off = 0;
      for (let a = 0; a < q; a++) off += idx.data[j * q + a]! * ds[a]!;
      for (let e = 0; e < slice; e++) {
        const u = upd.data[j * slice + e]!;
        out.data[off + e] = add ? out.data[off + e]! + u : u;
      }
    }
    return [out];
  },
  Softmax: (
    n,
    i,
  ) => [
    lanes(
      i[0]!,
      normAxis(n.op === "Softmax" ? n.attrs.axis ?? -1 : -1, i[0]!.shape.length),
      softmax,
    ),
  ],
  LogSoftmax: (
    n,
    i,
  ) => [
    lanes(
      i[0]!,
      normAxis(n.op === "LogSoftmax" ? n.attrs.axis ?? -1 : -1, i[0]!.shape.length),
      (l) => softmax(l).map(Math.log),
    ),
  ],
  SoftmaxCrossEntropyLoss: (n, i) => {
    const x = i[0]!, t = i[1]!, [rows, cols] = x.shape as [number, number];
    const at = n.op === "SoftmaxCrossEntropyLoss" ? n.attrs : {};
    const logp = lanes(x, 1, (l) => softmax(l).map(Math.log));
    const per = arr([rows]);
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const label = t.data[r]!;
      if (label === at.ignore_index) continue;
      per.data[r] = -logp.data[r * cols + label]!;
      count++;
    }
    const total = per.data.reduce((a, b) => a + b, 0);
    const red = at.reduction ?? "mean";
    return [red === "none" ? per : arr([], [red === "sum" ? total : total / count]), logp];
  },
  ReduceSum: (n, i) => reduceOp(n, i, (v) => v.reduce((a, b) => a + b, 0)),
  ReduceMean: (n, i) => reduceOp(n, i, (v) => v.reduce((a, b) => a + b, 0) / v.length),
  ReduceMax: (n, i) => reduceOp(n, i, (v) => Math.max(...v)),
  LayerNormalization: (n, i) => {
    const x = i[0]!, eps = n.op === "LayerNormalization" ? n.attrs.epsilon ?? 1e-5 : 1e-5;
    const axis = normAxis(n.op === "LayerNormalization" ? n.attrs.axis ?? -1 : -1, x.shape.length);
    const axes = x.shape.map((_, k) => k).filter((k) => k >= axis);
    const mean = reduce(x, axes, true, (v) => v.reduce((a, b) => a + b, 0) / v.length);
    const cen = elementwise([x, mean], (a, m) => a! - m!);
    const inv = reduce(
      elementwise([cen], (a) => a! * a!),
      axes,
      true,
      (v) => 1 / Math.sqrt(v.reduce((a, b) => a + b, 0) / v.length + eps),
    );
    let y = elementwise([cen, inv, i[1]!], (c, s, g) => c! * s! * g!);
    if (i[2]) y = elementwise([y, i[2]], (a, b) => a! + b!);
    return [y, mean, inv];
  },
};

/** GatherElements (`scatter` false) or ScatterElements (true) along the node's axis. */
function elementsAlong(n: Node, i: (Arr | null)[], outShape: number[], scatter: boolean): Arr[] {
  const data = i[0]!, idx = i[1]!;
  const axis = normAxis("axis" in n.attrs ? n.attrs.axis ?? 0 : 0, data.shape.length);
  const ds = stridesOf(data.shape), is = stridesOf(idx.shape);
  const out = scatter ? arr(data.shape, data.data) : arr(outShape);
  const add = n.op === "ScatterElements" && n.attrs.reduction === "add";
  for (let k = 0; k < idx.data.length; k++) {
    let off = 0, rem = k;
    for (let a = 0; a < idx.shape.length; a++) {
      const c = Math.floor(rem / is[a]!);
      rem -= c * is[a]!;
      const j = a === axis ? idx.data[k]! : c;
      off += (j < 0 ? j + data.shape[a]! : j) * ds[a]!;
    }
    if (!scatter) out.data[k] = data.data[off]!;
    else out.data[off] = add ? out.data[off]! + i[2]!.data[k]! : i[2]!.data[k]!;
  }
  return [out];
}

function reduceOp(n: Node, i: (Arr | null)[], f: (v: number[]) => number): Arr[] {
  const x = i[0]!, rank = x.shape.length;
  const axes = (ints(i[1]) ?? x.shape.map((_, k) => k)).map((a) => normAxis(a, rank));
  const keep = "keepdims" in n.attrs ? n.attrs.keepdims !== 0 : true;
  return [reduce(x, axes, keep, f)];
}

/**
 * Evaluates the graph in float64 and returns the requested tensors.
 *
 * @param feeds Values of inputs and parameters by name (parameters default to their `init`).
 */
export function evaluate(
  g: Graph,
  feeds: ReadonlyMap<string, Arr>,
  wanted: readonly Tensor[],
): Arr[] {
  const env = new Map<string, Arr>(feeds);
  for (const [name, c] of g.constants) {
    env.set(name, arr(c.tensor.shape, Array.from(c.data as ArrayLike<number | bigint>, Number)));
  }
  for (const p of g.parameters) {
    if (!env.has(p.tensor.name)) env.set(p.tensor.name, arr(p.tensor.shape, p.init));
  }
  for (const n of g.nodes) {
    const run = OPS[n.op];
    if (!run) throw new RangeError(`Reference interpreter has no op "${n.op}"`);
    const ins = n.inputs.map((t) => (t ? env.get(t.name) ?? null : null));
    const outs = run(n, ins, n.outputs.map((o) => [...o.shape]));
    n.outputs.forEach((o, k) => {
      const v = outs[k]!;
      if (v.data.length !== sizeOf(o.shape)) {
        throw new RangeError(
          `Reference ${n.op} "${n.name}" gave ${v.data.length} values for [${o.shape}]`,
        );
      }
      env.set(o.name, { shape: [...o.shape], data: v.data });
    });
  }
  return wanted.map((t) => {
    const v = env.get(t.name);
    if (!v) throw new RangeError(`Reference has no value for "${t.name}"`);
    return v;
  });
}
