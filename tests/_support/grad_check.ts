/**
 * Finite-difference gradient checks: central differences in float64 on the reference interpreter
 * against the gradient graph built by `gradients()`, evaluated by the same interpreter, and the
 * same gradient graph run by onnxruntime-node in float32.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { gradients } from "../../core/autodiff/mod.ts";
import { encode, Graph, mul, reduceSum, sizeOf, type Tensor } from "../../core/graph/mod.ts";
import { type Arr, arr, evaluate } from "./reference.ts";

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The central difference (L(x + h) − L(x − h)) / 2h of the scalar `loss` with respect to element
 * `j` of the float64 feed `name`, evaluated by the reference interpreter; the feed is restored.
 */
export function centralDifference(
  g: Graph,
  feeds: Map<string, Arr>,
  loss: Tensor,
  name: string,
  j: number,
  h = 1e-5,
): number {
  const x = feeds.get(name)!;
  const orig = x.data[j]!;
  x.data[j] = orig + h;
  const up = evaluate(g, feeds, [loss])[0]!.data[0]!;
  x.data[j] = orig - h;
  const down = evaluate(g, feeds, [loss])[0]!.data[0]!;
  x.data[j] = orig;
  return (up - down) / (2 * h);
}

/** What a case builds: the tensors to differentiate and the outputs the loss projects. */
export interface Built {
  wrt: Tensor[];
  ys: Tensor[];
}

/** Value range of the random inputs. */
export type Domain = "any" | "positive" | "awayFromZero";

/** Result of one check, for the assertion message. */
export interface CheckResult {
  maxFdError: number;
  maxOrtError: number;
  checked: number;
}

function sample(r: () => number, n: number, domain: Domain): Float64Array {
  return Float64Array.from({ length: n }, () => {
    const u = r() * 2 - 1;
    if (domain === "positive") return 0.5 + 1.5 * r();
    if (domain === "awayFromZero") return Math.sign(u || 1) * (0.2 + Math.abs(u));
    return u * 1.5;
  });
}

/**
 * Builds `L = Σ_k Σ yₖ ⊙ Rₖ` (fixed random Rₖ) over a case's outputs, differentiates it, and
 * compares every gradient element with central differences (h = 1e-5, float64) and with
 * onnxruntime-node's float32 result of the same gradient graph.
 */
export async function checkGradients(
  build: (g: Graph) => Built,
  seed: number,
  domain: Domain = "any",
): Promise<CheckResult> {
  const r = rng(seed);
  const g = new Graph("check");
  const { wrt, ys } = build(g);
  const terms = ys.map((y) => {
    const R = g.constant(
      Float32Array.from({ length: sizeOf(y.shape) }, () => r() * 2 - 1),
      y.shape,
    );
    return reduceSum(mul(y, R));
  });
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = g.node("Add", [loss, t], {})[0]!;
  const grads = gradients(loss, wrt);
  const gradTensors = wrt.map((t) => grads.get(t.name)!);
  gradTensors.forEach((t, i) => g.output(t, `grad_${i}`));

  const feeds = new Map<string, Arr>(
    wrt.map((t) => [t.name, arr(t.shape, sample(r, sizeOf(t.shape), domain))]),
  );
  const analytic = evaluate(g, feeds, gradTensors);
  let maxFdError = 0, checked = 0;
  for (const [i, t] of wrt.entries()) {
    const x = feeds.get(t.name)!;
    for (let j = 0; j < x.data.length; j++) {
      const fd = centralDifference(g, feeds, loss, t.name, j);
      const err = Math.abs(fd - analytic[i]!.data[j]!) / Math.max(1, Math.abs(fd));
      maxFdError = Math.max(maxFdError, err);
      checked++;
    }
  }

  const session = await ort.InferenceSession.create(encode(g), { executionProviders: ["cpu"] });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const t of wrt) {
    ortFeeds[t.name] = new ort.Tensor("float32", Float32Array.from(feeds.get(t.name)!.data), [
      ...t.shape,
    ]);
  }
  const out = await session.run(ortFeeds);
  await session.release();
  let maxOrtError = 0;
  gradTensors.forEach((_, i) => {
    const got = out[`grad_${i}`]!.data as Float32Array;
    analytic[i]!.data.forEach((v, j) => {
      maxOrtError = Math.max(maxOrtError, Math.abs(got[j]! - v) / Math.max(1, Math.abs(v)));
    });
  });
  return { maxFdError, maxOrtError, checked };
}
