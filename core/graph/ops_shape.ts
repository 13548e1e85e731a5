/**
 * Typed helpers over the shape and indexing ops. Shape-valued arguments are plain number arrays;
 * they become int64 constants so that shapes stay known at build time.
 *
 * @module
 */
import type { DType } from "./dtype.ts";
import type { Tensor } from "./graph.ts";

/**
 * Reshape to `shape` (`-1` infers one dimension, `0` copies the input's).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { reshape } from "./ops_shape.ts";
 * const x = new Graph("g").input("x", "float32", [2, 3, 4]);
 * console.assert(reshape(x, [-1, 4]).shape.join() === "6,4");
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.join() === x.shape.join()) return x;
  return x.graph.node("Reshape", [x, x.graph.ints(shape)], {})[0]!;
}

/** Permutes the axes: output axis `i` is input axis `perm[i]`. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return x.graph.node("Transpose", [x], { perm: [...perm] })[0]!;
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
  return x.graph.node("Split", [x, x.graph.ints(sizes)], { axis }, { outputs: sizes.length });
}

/** Concatenates along `axis`. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new RangeError("Cannot concat zero tensors");
  if (xs.length === 1) return first;
  return first.graph.node("Concat", xs, { axis })[0]!;
}

/** `x[starts:ends]` along `axes` (all axes when omitted), step 1. */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
): Tensor {
  const g = x.graph;
  const ins = [x, g.ints(starts), g.ints(ends)];
  if (axes) ins.push(g.ints(axes));
  return g.node("Slice", ins, {})[0]!;
}

/** Inserts size-1 axes at `axes` (positions in the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  return x.graph.node("Unsqueeze", [x, x.graph.ints(axes)], {})[0]!;
}

/** Removes the size-1 axes `axes`. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  return x.graph.node("Squeeze", [x, x.graph.ints(axes)], {})[0]!;
}

/** Broadcasts `x` to `shape`. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return x.graph.node("Expand", [x, x.graph.ints(shape)], {})[0]!;
}

/** Picks slices of `data` along `axis` by integer `indices` (embedding lookup on axis 0). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  return data.graph.node("Gather", [data, indices], { axis })[0]!;
}

/** `y[i][j] = data[i][indices[i][j]]` for `axis` 1 (and likewise on other axes). */
export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  return data.graph.node("GatherElements", [data, indices], { axis })[0]!;
}

/** Inverse of {@link gatherElements}: writes (or adds) `updates` at `indices` along `axis`. */
export function scatterElements(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  axis: number,
  reduction: "none" | "add" = "none",
): Tensor {
  return data.graph.node("ScatterElements", [data, indices, updates], { axis, reduction })[0]!;
}

/** `data` with `updates` written (or added, `reduction: "add"`) at `indices` (ScatterND-16). */
export function scatterND(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  reduction: "none" | "add" = "none",
): Tensor {
  return data.graph.node("ScatterND", [data, indices, updates], { reduction })[0]!;
}

/** A tensor of `shape` filled with `value`. */
export function full(like: Tensor, shape: readonly number[], value: number, dtype?: DType): Tensor {
  const g = like.graph;
  return g.node("ConstantOfShape", [g.ints(shape)], {
    value: { dtype: dtype ?? like.dtype, value },
  })[0]!;
}

/** Zero-pads: `pads` = begins of every axis, then ends of every axis. */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  return x.graph.node("Pad", [x, x.graph.ints(pads)], { mode: "constant" })[0]!;
}

/** A copy of `x` that the reverse pass treats as a constant (no gradient flows through it). */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.node("Identity", [x], {}, { stopGradient: true })[0]!;
}
