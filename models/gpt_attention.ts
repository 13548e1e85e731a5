/**
 * The attention of GPT-2's blocks (`gpt.ts`), from queries, keys and values already split into
 * heads: causal attention among the `T` tokens of a sequence (training, prefill from zero), or
 * attention over a fixed-size key/value cache into which the `T` new tokens are written
 * (decoding, see `models/gpt_kv_cache.ts`).
 *
 * @module
 */
import {
  add,
  cast,
  type CustomGradient,
  equal,
  type Graph,
  greater,
  matMul,
  mul,
  reduceSum,
  softmax,
  sub,
  type Tensor,
  transpose,
} from "../core/graph/mod.ts";
import type { GPTConfig } from "./gpt_config.ts";

const masks = new WeakMap<Graph, Map<number, Tensor>>();

/**
 * Causal additive mask `[T, T]`: 0 on and below the diagonal, −1e9 above; one per graph and
 * length, shared by every model in the graph (a student and its teacher).
 */
function causalMask(g: Graph, T: number): Tensor {
  const byLength = masks.get(g) ?? new Map<number, Tensor>();
  masks.set(g, byLength);
  let mask = byLength.get(T);
  if (!mask) {
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    mask = g.constant(
      m,
      [T, T],
      "float32",
      byLength.size === 0 ? "causal_mask" : `causal_mask_${T}`,
    );
    byLength.set(T, mask);
  }
  return mask;
}

/**
 * Keys and values of one attention layer. Keys are kept transposed, so `q · Kᵀ` is a plain MatMul
 * with no Transpose in the training graph or in the decode step.
 */
export interface LayerKV {
  /** Keys `[B, nh, hs, S]`. */
  k: Tensor;
  /** Values `[B, nh, S, hs]`. */
  v: Tensor;
}

/** What a decode graph reads: where its tokens go and every layer's cache over the context. */
export interface KVCacheInput {
  /** int64 `[1]`: the position of the first of the `T` tokens (the others follow it). */
  position: Tensor;
  /** One entry per layer: keys `[B, nh, hs, ctx]`, values `[B, nh, ctx, hs]`. */
  past: readonly LayerKV[];
}

/**
 * Attention of one layer over its queries `[B, nh, T, hs]`, this step's keys `[B, nh, hs, T]` and
 * values `[B, nh, T, hs]`: returns the attended values `[B, nh, T, hs]` and what it attended to.
 */
export type Attend = (l: number, q: Tensor, kT: Tensor, v: Tensor) => { y: Tensor; kv: LayerKV };

/** Drops activation `x` at dropout site `site` (identity without dropout). */
export type Drop = (x: Tensor, site: number) => Tensor;

/**
 * Causal self-attention within the `T` tokens (training, full recompute, prefill from zero); the
 * attention probabilities of layer `l` go through `drop` at site `1 + 3l` (null: no dropout).
 * With `recompute` and no dropout, the backward recomputes the probabilities instead of keeping
 * them.
 *
 * @example
 * ```ts
 * import { causalAttention } from "./gpt_attention.ts";
 * import { Graph } from "../core/graph/mod.ts";
 * const g = new Graph("attend");
 * const q = g.input("q", "float32", [1, 2, 4, 8]), kT = g.input("k", "float32", [1, 2, 8, 4]);
 * const v = g.input("v", "float32", [1, 2, 4, 8]);
 * const { y } = causalAttention(g, 4, null)(0, q, kT, v);
 * console.assert(y.shape.join() === "1,2,4,8");
 * ```
 */
export function causalAttention(
  g: Graph,
  T: number,
  drop: Drop | null,
  recompute = false,
): Attend {
  const mask = causalMask(g, T);
  return (l, q, kT, v) => {
    const att = softmax(add(matMul(q, kT), mask), -1); // [B, nh, T, hs] · [B, nh, hs, T] → [B, nh, T, T]
    const y = matMul(drop === null ? att : drop(att, 1 + 3 * l), v); // [B, nh, T, T] · [B, nh, T, hs] → [B, nh, T, hs]
    if (recompute && drop === null) g.withGradient(y, recomputedAttentionGradient(q, kT, v, mask));
    return { y, kv: { k: kT, v } };
  };
}

/**
 * The backward of `y = softmax(q·kᵀ + mask)·v` that recomputes the probabilities `[B, nh, T, T]`
 * instead of keeping every layer's until the backward: at 1 024 tokens they are the largest
 * activations of a GPT-2 (50 MB per layer of gpt2-small, 64 MB of gpt2-medium), and recomputing
 * costs one `[T, T]` product per layer. The gradients are those of the MatMul and Softmax rules.
 */
function recomputedAttentionGradient(
  q: Tensor,
  kT: Tensor,
  v: Tensor,
  mask: Tensor,
): CustomGradient {
  const swap = [0, 1, 3, 2];
  return {
    inputs: [q, kT, v],
    grad(dy) {
      // Subtle: (2q)·kᵀ·½ is q·kᵀ bit for bit, but not the same expression, so ONNX Runtime's
      // common-subexpression elimination cannot fold it into the forward product and keep that
      // alive instead (measured: written as q·kᵀ, a 2-layer d 256 model at 4 × 1 024 tokens
      // peaked at 2.92 GB as without recomputation; as here, 2.70 GB).
      const p = softmax(add(mul(matMul(mul(q, 2), kT), 0.5), mask), -1); // → [B, nh, T, T]
      const dv = matMul(transpose(p, swap), dy); // [B, nh, T, T]ᵀ · [B, nh, T, hs] → [B, nh, T, hs]
      const dp = matMul(dy, transpose(v, swap)); // [B, nh, T, hs] · [B, nh, hs, T] → [B, nh, T, T]
      const ds = mul(p, sub(dp, reduceSum(mul(dp, p), [-1], true))); // softmax backward
      const dq = matMul(ds, transpose(kT, swap)); // [B, nh, T, T] · [B, nh, T, hs] → [B, nh, T, hs]
      const dkT = matMul(transpose(q, swap), ds); // [B, nh, hs, T] · [B, nh, T, T] → [B, nh, hs, T]
      return [dq, dkT, dv];
    },
  };
}

/**
 * Attention over a fixed-size cache (static shapes): the `T` new keys and values are written at
 * `position … position+T−1` by a one-hot blend (`cache · keep + W · new`, plain Mul/MatMul/Add
 * that every execution provider runs), and token `t` sees cache slots `j ≤ position + t`; slots
 * beyond are masked whatever they hold.
 *
 * @throws {RangeError} If the cache has another number of layers than `cfg`.
 * @example
 * ```ts
 * import { cachedAttention } from "./gpt_attention.ts";
 * import { GPT_CONFIGS } from "./gpt_config.ts";
 * import { Graph } from "../core/graph/mod.ts";
 * const g = new Graph("decode");
 * const cfg = GPT_CONFIGS.tiny, ctx = cfg.contextLength, hs = cfg.dModel / cfg.heads;
 * const past = Array.from({ length: cfg.layers }, (_, l) => ({
 *   k: g.input(`k${l}`, "float32", [1, cfg.heads, hs, ctx]),
 *   v: g.input(`v${l}`, "float32", [1, cfg.heads, ctx, hs]),
 * }));
 * const attend = cachedAttention(g, cfg, 1, { position: g.input("position", "int64", [1]), past });
 * const q = g.input("q", "float32", [1, cfg.heads, 1, hs]);
 * const { kv } = attend(0, q, g.input("kT", "float32", [1, cfg.heads, hs, 1]), g.input("v", "float32", [1, cfg.heads, 1, hs]));
 * console.assert(kv.k.shape.join() === `1,${cfg.heads},${hs},${ctx}`);
 * ```
 */
export function cachedAttention(g: Graph, cfg: GPTConfig, T: number, cache: KVCacheInput): Attend {
  const ctx = cfg.contextLength;
  if (cache.past.length !== cfg.layers) {
    throw new RangeError(`Cannot build GPT: ${cache.past.length} cached layers for ${cfg.layers}`);
  }
  // Positions as float32: small integers compare exactly, and WebGPU keeps float math on the GPU.
  const start = cast(cache.position, "float32"); // [1]
  const rows = add(g.constant(Float32Array.from({ length: T }, (_, t) => t), [T, 1]), start); // [T, 1]
  const cols = g.constant(Float32Array.from({ length: ctx }, (_, j) => j), [1, ctx]); // [1, ctx]
  const mask = mul(cast(greater(cols, rows), "float32"), -1e9); // [T, ctx]: −1e9 where slot j > position + t
  const w = cast(equal(cols, rows), "float32"); // [T, ctx]: 1 where slot j = position + t
  const wT = transpose(w, [1, 0]); // [T, ctx] → [ctx, T]
  const keepRow = sub(1, reduceSum(w, [0], true)); // [1, ctx]: 0 at the written slots
  const keepCol = transpose(keepRow, [1, 0]); // [1, ctx] → [ctx, 1]
  return (l, q, kT, v) => {
    const past = cache.past[l]!;
    const k = add(mul(past.k, keepRow), matMul(kT, w)); // [B, nh, hs, T] · [T, ctx] → [B, nh, hs, ctx]
    const vc = add(mul(past.v, keepCol), matMul(wT, v)); // [ctx, T] · [B, nh, T, hs] → [B, nh, ctx, hs]
    const att = softmax(add(matMul(q, k), mask), -1); // [B, nh, T, hs] · [B, nh, hs, ctx] → [B, nh, T, ctx]
    return { y: matMul(att, vc), kv: { k, v: vc } }; // [B, nh, T, ctx] · [B, nh, ctx, hs] → [B, nh, T, hs]
  };
}
