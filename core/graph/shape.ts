/**
 * Shape helpers shared by shape inference, the autodiff rules and the reference interpreter.
 *
 * @module
 */

/** Static tensor shape; every dimension is known at build time. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Normalizes a possibly negative axis for a tensor of rank `rank`. */
export function normAxis(axis: number, rank: number, where = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`${where} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Formats a shape for error messages: `[2,3,4]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * NumPy-style broadcast of several shapes (ONNX "multidirectional broadcasting"), or `undefined`
 * when they do not broadcast.
 *
 * @example
 * ```ts
 * import { broadcastShapes } from "./shape.ts";
 * console.assert(broadcastShapes([2, 1, 4], [3, 1])!.join() === "2,3,4");
 * ```
 */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return undefined;
      d = v;
    }
    out.push(d);
  }
  return out;
}
