/**
 * Dropout whose masks are built inside the training graph from one int64 key per session run, so
 * a mask is a pure function of (seed, step, micro-batch, site, position): a resumed run draws the
 * very masks the uninterrupted run drew, on any backend, with no random op and no mask upload.
 *
 * Each element's decision is a counter-based hash of its flat index `i` in the masked tensor,
 * computed in int64 modulo the Mersenne prime P = 2³¹ − 1 (every product stays below 2⁶³):
 *
 *     c  = (key + (site + 1) · 0x9E3779B) mod P        one scalar per site
 *     x₁ = ((i + c) · 48271) mod P                      scatters neighbouring indices
 *     x₂ = (x₁² + c) mod P,  x₃ = (x₂² + c) mod P       two quadratic rounds (nonlinear)
 *     keep = x₃ ≥ round(p · P)
 *
 * and the output is `keep ? x / (1 − p) : 0` (inverted dropout) as a Where, so the gradient rules
 * of Where and Mul pass the upstream gradient through the same scaled mask: no new op and no new
 * gradient rule, and the backward pass keeps a one-byte bool mask per element rather than a float
 * one. The mask nodes read no parameter, so autodiff leaves them alone.
 *
 * Why in the graph rather than masks generated in JS and fed as inputs: for GPT-2 small at 8 K
 * tokens a step's attention masks alone are 1.2 G values, which no JS generator and no feed could
 * keep up with.
 *
 * @module
 */
import { add, div, greater, mul, sub, type Tensor, where } from "../core/graph/mod.ts";

/** Name of the int64 scalar input that keys a step's masks. */
export const DROPOUT_KEY = "dropout_key";

/** The Mersenne prime 2³¹ − 1: the modulus of the mask hash. */
export const DROPOUT_MODULUS = 2147483647;
const MULTIPLIER = 48271;
const SITE_STRIDE = 0x9e3779b;

/**
 * The key of one micro-batch's masks: a 31-bit mix of the run's seed, the optimizer step and the
 * micro-batch index (murmur3's finalizer over each in turn).
 *
 * @param seed The run's seed.
 * @param step The optimizer step, 1-based.
 * @param micro The micro-batch within the step, 0-based.
 * @returns An integer in [0, 2³¹ − 1).
 *
 * @example
 * ```ts
 * import { dropoutKey } from "./dropout.ts";
 * console.assert(dropoutKey(1, 5, 0) === dropoutKey(1, 5, 0));
 * console.assert(dropoutKey(1, 5, 0) !== dropoutKey(1, 6, 0));
 * ```
 */
export function dropoutKey(seed: number, step: number, micro = 0): number {
  let h = 0x2545f491;
  for (const v of [seed, step, micro]) {
    h = Math.imul(h ^ (v >>> 0), 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) % DROPOUT_MODULUS;
}

/** `x mod P` for int64 `x ≥ 0` (Div truncates, which is floor for non-negative values). */
function modP(x: Tensor): Tensor {
  return sub(x, mul(div(x, DROPOUT_MODULUS), DROPOUT_MODULUS));
}

/**
 * The keep-mask `[…shape]` of one dropout site: true where the element is kept.
 *
 * @param key The int64 scalar key (see {@linkcode dropoutKey}).
 * @param shape The masked tensor's shape (at most 2³¹ − 1 elements).
 * @param p The drop probability, in (0, 1).
 * @param site Which dropout of the model this is (each gets independent masks).
 * @returns A bool tensor of `shape`.
 * @throws {RangeError} If `p` is outside (0, 1) or the tensor has too many elements.
 */
export function dropoutKeep(
  key: Tensor,
  shape: readonly number[],
  p: number,
  site: number,
): Tensor {
  if (!(p > 0 && p < 1)) throw new RangeError(`Invalid dropout probability ${p}: expected (0, 1)`);
  const width = shape.at(-1) ?? 1, rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (rows * width >= DROPOUT_MODULUS) {
    throw new RangeError(`Cannot drop out [${shape.join(", ")}]: more than 2³¹ − 2 elements`);
  }
  const g = key.graph;
  const c = modP(add(key, (site + 1) * SITE_STRIDE)); // [] in [0, P)
  // Flat index i = row · width + column by broadcasting, so no constant is as large as the mask.
  const rowStarts = g.constant(
    BigInt64Array.from({ length: rows }, (_, r) => BigInt(r * width)),
    [...shape.slice(0, -1), 1],
    "int64",
  );
  const columns = g.constant(
    BigInt64Array.from({ length: width }, (_, j) => BigInt(j)),
    [width],
    "int64",
  );
  const i = add(add(rowStarts, c), columns); // [..., 1] + [width] → shape
  const x1 = modP(mul(i, MULTIPLIER));
  const x2 = modP(add(mul(x1, x1), c));
  const x3 = modP(add(mul(x2, x2), c));
  return greater(x3, Math.round(p * DROPOUT_MODULUS) - 1); // x₃ ≥ round(p·P)
}

/**
 * Inverted dropout of `x` at probability `p`, keyed by `key`; `x` itself when `p` is 0.
 *
 * @param x A float32 activation.
 * @param p The drop probability, in [0, 1).
 * @param key The int64 scalar key of this run of the graph.
 * @param site Which dropout of the model this is.
 * @returns `keep ? x / (1 − p) : 0`.
 *
 * @example
 * ```ts
 * import { Graph } from "../core/graph/mod.ts";
 * import { dropout, DROPOUT_KEY } from "./dropout.ts";
 * const g = new Graph("d");
 * const x = g.input("x", "float32", [4, 8]);
 * const y = dropout(x, 0.1, g.input(DROPOUT_KEY, "int64", []), 0);
 * console.assert(y.shape.join() === "4,8" && dropout(x, 0, y, 0) === x);
 * ```
 */
export function dropout(x: Tensor, p: number, key: Tensor, site: number): Tensor {
  return p === 0 ? x : where(dropoutKeep(key, x.shape, p, site), mul(x, 1 / (1 - p)), 0);
}
