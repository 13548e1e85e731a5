import {
  add,
  div,
  type Graph,
  min,
  mul,
  type Parameter,
  pow,
  reduceSum,
  sqrt,
  sub,
  type Tensor,
} from "../graph/mod.ts";

/** AdamW hyper-parameters (PyTorch `torch.optim.AdamW` semantics). */
export interface AdamWConfig {
  /** First-moment decay β₁. */
  beta1: number;
  /** Second-moment decay β₂ (GPT training usually uses 0.95). */
  beta2: number;
  /** Added to √v̂ for stability. */
  eps: number;
  /** Decoupled weight decay λ, applied to parameters with `decay: true` only. */
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables clipping. */
  clipNorm: number;
}

/** The paper's settings: weight decay 0.05, clipping 1.0 (DESIGN.md "Training"). */
export const ADAMW_DEFAULTS: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.05,
  clipNorm: 1.0,
};

/** One step output fed back as an input at the next step. */
export interface StateBinding {
  input: string;
  output: string;
}

/** Names of the state inputs and of the updated outputs of a parameter. */
export const stateNames = (param: string) => ({
  m: `${param}.adam_m`,
  v: `${param}.adam_v`,
  next: (name: string) => `${name}.next`,
});

/**
 * Appends global-norm clipping and one AdamW update to `g`:
 *
 * ```
 * ĝ = g · min(1, clip / (‖g‖₂ + 1e-6))         (‖·‖ over all trainable parameters)
 * m ← β₁ m + (1 − β₁) ĝ,   v ← β₂ v + (1 − β₂) ĝ²
 * p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε) − lr · λ · p     (λ only where decay)
 * ```
 *
 * `lr` and `step` (t, counting from 1) are float32 scalar graph inputs so that schedules stay
 * outside the graph. Adds inputs `<p>.adam_m`, `<p>.adam_v` per trainable parameter and outputs
 * `<p>.next`, `<p>.adam_m.next`, `<p>.adam_v.next`.
 *
 * @param grads Gradient per trainable parameter name.
 * @returns State bindings (output → input for the next step) and the pre-clip gradient norm.
 */
export function addAdamW(
  g: Graph,
  params: readonly Parameter[],
  grads: ReadonlyMap<string, Tensor>,
  cfg: AdamWConfig,
): { bindings: StateBinding[]; gradNorm: Tensor } {
  return g.scope("adamw", () => {
    const trainable = params.filter((p) => p.trainable);
    const lr = g.input("lr", "float32", []);
    const step = g.input("step", "float32", []);
    const gradOf = (p: Parameter) => {
      const d = grads.get(p.tensor.name);
      if (!d) throw new RangeError(`Cannot build AdamW: no gradient for "${p.tensor.name}"`);
      return d;
    };
    // ‖g‖² = Σ_p Σ g_p²
    let sq: Tensor | null = null;
    for (const p of trainable) {
      const d = gradOf(p);
      const s = reduceSum(mul(d, d));
      sq = sq ? add(sq, s) : s;
    }
    const gradNorm = sq ? sqrt(sq) : g.scalar(0);
    const coef = cfg.clipNorm > 0 ? min(div(cfg.clipNorm, add(gradNorm, 1e-6)), 1) : null;
    // Bias corrections: 1 − β₁ᵗ and √(1 − β₂ᵗ); lr folded with the first: α = lr / (1 − β₁ᵗ)
    const alpha = div(lr, sub(1, pow(g.scalar(cfg.beta1), step)));
    const rootBc2 = sqrt(sub(1, pow(g.scalar(cfg.beta2), step)));
    const bindings: StateBinding[] = [];
    for (const p of trainable) {
      const name = p.tensor.name, names = stateNames(name);
      const d = coef ? mul(gradOf(p), coef) : gradOf(p);
      const m = g.input(names.m, "float32", p.tensor.shape);
      const v = g.input(names.v, "float32", p.tensor.shape);
      const m2 = g.node("Add", [mul(m, cfg.beta1), mul(d, 1 - cfg.beta1)], {}, {
        outputNames: [names.next(names.m)],
      })[0]!;
      const v2 = g.node("Add", [mul(v, cfg.beta2), mul(mul(d, d), 1 - cfg.beta2)], {}, {
        outputNames: [names.next(names.v)],
      })[0]!;
      // step = α · m / (√v / √(1 − β₂ᵗ) + ε)
      let delta = mul(alpha, div(m2, add(div(sqrt(v2), rootBc2), cfg.eps)));
      if (p.decay && cfg.weightDecay > 0) {
        delta = add(delta, mul(p.tensor, mul(lr, cfg.weightDecay)));
      }
      const p2 = g.node("Sub", [p.tensor, delta], {}, { outputNames: [names.next(name)] })[0]!;
      for (const t of [p2, m2, v2]) g.outputs.push(t);
      for (const [i, o] of [[name, p2], [names.m, m2], [names.v, v2]] as const) {
        bindings.push({ input: i, output: o.name });
      }
    }
    return { bindings, gradNorm };
  });
}
