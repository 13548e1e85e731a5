/**
 * Float64 array kernels of the reference interpreter (tests only): broadcasting, matrix
 * product, transpose, lane-wise and reduced operations, axis slicing.
 *
 * @module
 */
import { broadcastShapes, sizeOf } from "../../core/graph/mod.ts";

/** A float64 array with its shape. */
export interface Arr {
  shape: number[];
  data: Float64Array;
}

/** A float64 array of `shape`, zeros or a copy of `data`. */
export function arr(shape: readonly number[], data?: ArrayLike<number>): Arr {
  const d = data ? Float64Array.from(data) : new Float64Array(sizeOf(shape));
  return { shape: [...shape], data: d };
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Offsets into `from` (broadcast to `to`) for every flat index of `to`. */
export function broadcastOffsets(from: readonly number[], to: readonly number[]): Int32Array {
  const n = sizeOf(to), out = new Int32Array(n);
  const fs = stridesOf(from), lead = to.length - from.length;
  const idx = new Array<number>(to.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < from.length; i++) if (from[i] !== 1) off += idx[i + lead]! * fs[i]!;
    out[k] = off;
    for (let i = to.length - 1; i >= 0; i--) {
      if (++idx[i]! < to[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** `f` applied elementwise over the broadcast of the inputs. */
export function elementwise(ins: Arr[], f: (...v: number[]) => number): Arr {
  const shape = broadcastShapes(...ins.map((a) => a.shape))!;
  const offs = ins.map((a) => broadcastOffsets(a.shape, shape));
  const out = arr(shape);
  const v = new Array<number>(ins.length);
  for (let k = 0; k < out.data.length; k++) {
    for (let j = 0; j < ins.length; j++) v[j] = ins[j]!.data[offs[j]![k]!]!;
    out.data[k] = f(...v);
  }
  return out;
}

/** Axis permutation: output axis `i` is input axis `perm[i]`. */
export function transpose(x: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => x.shape[p]!);
  const xs = stridesOf(x.shape), out = arr(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.data.length; k++) {
    let off = 0;
    for (let i = 0; i < shape.length; i++) off += idx[i]! * xs[perm[i]!]!;
    out.data[k] = x.data[off]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** Batched, broadcast matrix product. */
export function matMul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))!;
  const ao = broadcastOffsets(a.shape.slice(0, -2), batch);
  const bo = broadcastOffsets(b.shape.slice(0, -2), batch);
  const out = arr([...batch, m, n]);
  for (let p = 0; p < ao.length; p++) {
    const A = ao[p]! * m * k, B = bo[p]! * k * n, O = p * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a.data[A + i * k + q]! * b.data[B + q * n + j]!;
        out.data[O + i * n + j] = s;
      }
    }
  }
  return out;
}

/** Applies `f` to each 1-D lane along `axis`. */
export function lanes(x: Arr, axis: number, f: (lane: number[]) => number[]): Arr {
  const out = arr(x.shape);
  const st = stridesOf(x.shape)[axis]!, d = x.shape[axis]!;
  for (let k = 0; k < x.data.length; k++) {
    if (Math.floor(k / st) % d !== 0) continue;
    const lane = Array.from({ length: d }, (_, i) => x.data[k + i * st]!);
    f(lane).forEach((v, i) => (out.data[k + i * st] = v));
  }
  return out;
}

/** `f` over the values of each group of `axes` (kept as size 1 when `keep`). */
export function reduce(x: Arr, axes: number[], keep: boolean, f: (vals: number[]) => number): Arr {
  const kshape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const offs = broadcastOffsets(kshape, x.shape);
  for (let k = 0; k < x.data.length; k++) {
    const o = offs[k]!;
    (groups.get(o) ?? groups.set(o, []).get(o)!).push(x.data[k]!);
  }
  const out = arr(kshape);
  for (let o = 0; o < out.data.length; o++) out.data[o] = f(groups.get(o) ?? []);
  if (!keep) out.shape = x.shape.filter((_, i) => !axes.includes(i));
  return out;
}

/** `len` entries of `x` from `start` along `axis`. */
export function sliceAxis(x: Arr, axis: number, start: number, len: number): Arr {
  const shape = x.shape.map((d, i) => (i === axis ? len : d));
  const out = arr(shape);
  const offs = broadcastOffsets(shape, shape);
  const xs = stridesOf(x.shape), os = stridesOf(shape);
  for (let k = 0; k < out.data.length; k++) {
    let off = 0, rem = offs[k]!;
    for (let i = 0; i < shape.length; i++) {
      const c = Math.floor(rem / os[i]!);
      rem -= c * os[i]!;
      off += (i === axis ? c + start : c) * xs[i]!;
    }
    out.data[k] = x.data[off]!;
  }
  return out;
}

/** Writes `src` into `dst` from `start` along `axis`. */
export function placeAxis(dst: Arr, src: Arr, axis: number, start: number): void {
  const ds = stridesOf(dst.shape), ss = stridesOf(src.shape);
  for (let k = 0; k < src.data.length; k++) {
    let off = 0, rem = k;
    for (let i = 0; i < src.shape.length; i++) {
      const c = Math.floor(rem / ss[i]!);
      rem -= c * ss[i]!;
      off += (i === axis ? c + start : c) * ds[i]!;
    }
    dst.data[off] = src.data[k]!;
  }
}
