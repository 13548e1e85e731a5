/**
 * Runs a loss graph both ways for the loss tests: in float64 on the reference interpreter and in
 * float32 on onnxruntime-node's CPU EP, from the same plain-array feeds.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { encode, type Graph, type Tensor } from "../../../core/graph/mod.ts";
import { rng } from "../../_support/grad_check.ts";
import { type Arr, arr, evaluate } from "../../_support/reference.ts";

/** A feed: a float32 or int64 tensor given as a matrix, a vector or a scalar. */
export type Feed = { dtype: "float32" | "int64"; value: number | number[] | number[][] };

function flat(f: Feed): { shape: number[]; data: number[] } {
  const v = f.value;
  if (typeof v === "number") return { shape: [], data: [v] };
  if (v.length && Array.isArray(v[0])) {
    const rows = v as number[][];
    return { shape: [rows.length, rows[0]!.length], data: rows.flat() };
  }
  return { shape: [v.length], data: v as number[] };
}

/** The values of `outs` (whole tensors) in float64 on the reference interpreter. */
export function referenceValues(g: Graph, feeds: Record<string, Feed>, outs: Tensor[]): Arr[] {
  const m = new Map(
    Object.entries(feeds).map(([k, f]) => {
      const { shape, data } = flat(f);
      return [k, arr(shape, data)];
    }),
  );
  return evaluate(g, m, outs);
}

/** The scalar values of `outs` in float64 on the reference interpreter. */
export function runReference(g: Graph, feeds: Record<string, Feed>, outs: Tensor[]): number[] {
  return referenceValues(g, feeds, outs).map((a) => a.data[0]!);
}

/**
 * The values of `outs` (whole tensors) in float32 on onnxruntime-node's CPU EP. Marks them as
 * graph outputs, once, so a graph can run several times.
 */
export async function ortValues(
  g: Graph,
  feeds: Record<string, Feed>,
  outs: Tensor[],
): Promise<Float32Array[]> {
  const marked = new Set(g.outputs.map((o) => o.name));
  const names = outs.map((t) => {
    const name = `out:${t.name}`;
    return marked.has(name) ? name : g.output(t, name).name;
  });
  const session = await ort.InferenceSession.create(encode(g), { executionProviders: ["cpu"] });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, f] of Object.entries(feeds)) {
    const { shape, data } = flat(f);
    ortFeeds[k] = f.dtype === "int64"
      ? new ort.Tensor("int64", BigInt64Array.from(data, BigInt), shape)
      : new ort.Tensor("float32", Float32Array.from(data), shape);
  }
  const res = await session.run(ortFeeds);
  await session.release();
  return names.map((n) => res[n]!.data as Float32Array);
}

/** The scalar values of `outs` in float32 on onnxruntime-node. */
export async function runOrt(
  g: Graph,
  feeds: Record<string, Feed>,
  outs: Tensor[],
): Promise<number[]> {
  return (await ortValues(g, feeds, outs)).map((a) => a[0]!);
}

/** An `[n, v]` matrix of uniform values in `[−scale, scale)` from a seeded generator. */
export function randomMatrix(seed: number, n: number, v: number, scale = 3): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: v }, () => (r() * 2 - 1) * scale));
}

/** `|a − b| / max(1, |b|)`. */
export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}
