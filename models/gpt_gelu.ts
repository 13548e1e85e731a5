/**
 * The MLP's GELU with a hand-written backward that keeps only its input. Differentiated node by
 * node, the tanh form keeps five `[B·T, 4C]` intermediates per layer until the backward (x², the
 * polynomial, u, tanh u, ½x — 240 MB per 1 024 tokens of gpt2-small, 780 MB of gpt2-medium); its
 * derivative needs only x, so the backward recomputes tanh u from it.
 *
 * @module
 */
import { add, erf, exp, type Graph, mul, sub, tanh, type Tensor } from "../core/graph/mod.ts";
import type { GPTConfig } from "./gpt_config.ts";

/** √(2/π), the tanh form's scale. */
const C = Math.sqrt(2 / Math.PI);
/** The cubic term's weight, times √(2/π): u = C·x + K·x³. */
const K = 0.044715 * C;

/**
 * `gelu_new` = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), GPT-2's tanh approximation;
 * `gelu` = 0.5 · x · (1 + erf(x / √2)), the exact one (transformers' `NewGELUActivation` and
 * `GELUActivation`). Either way the backward reads x alone.
 *
 * @param g The graph `x` belongs to.
 * @param x The MLP's hidden pre-activation.
 * @param activation Which GELU (`cfg.activation`; absent: the tanh form).
 * @returns GELU(x), with its custom gradient attached.
 *
 * @example
 * ```ts
 * import { Graph } from "../core/graph/mod.ts";
 * import { gelu } from "./gpt_gelu.ts";
 * const g = new Graph("mlp");
 * const y = gelu(g, g.input("x", "float32", [4]), undefined);
 * console.assert(g.customGradients.has(y.name));
 * ```
 */
export function gelu(g: Graph, x: Tensor, activation: GPTConfig["activation"]): Tensor {
  if (activation === "gelu") {
    const y = mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
    return g.withGradient(y, { inputs: [x], grad: (dy) => [mul(dy, exactGeluDerivative(x))] });
  }
  // Written as ONNX Runtime's GELU fusion expects it (√(2/π)·x · (1 + 0.044715·x·x)): with only
  // x read by the backward, the seven nodes become one FastGelu kernel on the cpu backend.
  const u = mul(mul(x, C), add(mul(mul(x, 0.044715), x), 1));
  const y = mul(mul(x, 0.5), add(tanh(u), 1));
  return g.withGradient(y, { inputs: [x], grad: (dy) => [mul(dy, tanhGeluDerivative(x))] });
}

// Subtle: each derivative below starts from x with an expression the forward does not contain,
// so ONNX Runtime's common-subexpression elimination cannot merge the recomputation into the
// forward and keep the forward's intermediates alive after all (see the attention's backward).

/**
 * d/dx ½x(1 + tanh u) = ½(1 + t) + ½x(1 − t²)·u′ = ½(1 + t)·(1 + x(1 − t)·u′), with t = tanh u,
 * u = C·x + K·x³ and u′ = C + 3K·x².
 */
function tanhGeluDerivative(x: Tensor): Tensor {
  const q = mul(mul(x, 3 * K), x); // 3K·x²
  const t = tanh(mul(x, add(mul(q, 1 / 3), C)));
  const inner = add(mul(mul(x, sub(1, t)), add(q, C)), 1);
  return mul(add(mul(t, 0.5), 0.5), inner);
}

/** d/dx ½x(1 + erf(x/√2)) = ½(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π). */
function exactGeluDerivative(x: Tensor): Tensor {
  const cdf = sub(0.5, mul(erf(mul(x, -Math.SQRT1_2)), 0.5)); // erf is odd: ½(1 + erf(x/√2))
  const pdf = mul(exp(mul(mul(x, -0.5), x)), 1 / Math.sqrt(2 * Math.PI));
  return add(cdf, mul(x, pdf));
}
