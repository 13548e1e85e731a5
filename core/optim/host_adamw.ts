/**
 * AdamW applied on the host, in place, to parameters held in host memory: the update of
 * {@linkcode addAdamW} (same clipping, bias correction and decoupled decay) as one loop per
 * parameter instead of graph outputs. On the cpu backend a graph's outputs are fresh arrays that
 * onnxruntime-node copies out of its own, so an in-graph update holds the old state, the new
 * state and its copy at once (three times parameters + moments: 11 GB for gpt2-medium) and maps
 * that much fresh memory every step; updating in place holds the state once and moves only the
 * gradients.
 *
 * @module
 */
import type { AdamWConfig } from "./adamw.ts";
import { stateNames } from "./adamw.ts";

/** One parameter the optimizer updates: its values (updated in place) and whether it decays. */
export interface HostParameter {
  name: string;
  data: Float32Array;
  decay: boolean;
}

/**
 * The optimizer state of {@linkcode addAdamW}'s graph — moments `<p>.adam_m` and `<p>.adam_v`
 * per parameter, zero at the start — and the update over host arrays.
 *
 * @example
 * ```ts
 * import { ADAMW_DEFAULTS } from "./adamw.ts";
 * import { HostAdamW } from "./host_adamw.ts";
 * const w = Float32Array.of(1, -1);
 * const adam = new HostAdamW({ ...ADAMW_DEFAULTS, weightDecay: 0 }, [{ name: "w", data: w, decay: false }]);
 * adam.update(new Map([["w", Float32Array.of(0.5, -0.5)]]), Math.SQRT1_2, 0.1, 1);
 * // The first step moves each coordinate by lr against the sign of its gradient.
 * console.assert(Math.abs(w[0]! - 0.9) < 1e-6 && Math.abs(w[1]! + 0.9) < 1e-6);
 * console.assert(adam.state().has("w.adam_m") && adam.state().has("w.adam_v"));
 * ```
 */
export class HostAdamW {
  readonly #moments = new Map<string, { m: Float32Array; v: Float32Array }>();

  /**
   * @param cfg AdamW hyper-parameters.
   * @param params The trainable parameters; their arrays are updated in place.
   */
  constructor(readonly cfg: AdamWConfig, readonly params: readonly HostParameter[]) {
    for (const p of params) {
      this.#moments.set(p.name, {
        m: new Float32Array(p.data.length),
        v: new Float32Array(p.data.length),
      });
    }
  }

  /**
   * One step: clips the gradients to the global norm, updates the moments, then the parameters.
   *
   * @param grads Gradient per parameter name (read only).
   * @param gradNorm ‖g‖₂ over all the parameters, before clipping.
   * @param lr Learning rate of this step.
   * @param step The step, counting from 1 (bias correction).
   * @throws {RangeError} If a parameter has no gradient or one of another length.
   */
  update(
    grads: ReadonlyMap<string, Float32Array>,
    gradNorm: number,
    lr: number,
    step: number,
  ): void {
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg;
    // The scalars folded as in the graph: clipping scales g by c, so m by (1 − β₁)·c and v by
    // (1 − β₂)·c²; α·m̂/(√v̂ + ε) = (α·√(1 − β₂ᵗ))·m / (√v + ε·√(1 − β₂ᵗ)), α = lr / (1 − β₁ᵗ).
    const c = clipNorm > 0 ? Math.min(clipNorm / (gradNorm + 1e-6), 1) : 1;
    const gScale = c * (1 - beta1), g2Scale = c * c * (1 - beta2);
    const rootBc2 = Math.sqrt(1 - beta2 ** step);
    const stepSize = lr / (1 - beta1 ** step) * rootBc2, epsHat = rootBc2 * eps;
    for (const p of this.params) {
      const g = grads.get(p.name);
      if (g === undefined || g.length !== p.data.length) {
        throw new RangeError(
          `Cannot update "${p.name}": ${
            g === undefined ? "no gradient" : "gradient of another size"
          }`,
        );
      }
      const keep = p.decay && weightDecay > 0 ? 1 - lr * weightDecay : 1;
      const { m, v } = this.#moments.get(p.name)!;
      adamWLoop(p.data, g, m, v, beta1, gScale, beta2, g2Scale, keep, stepSize, epsHat);
    }
  }

  /** The moments by state name (`<p>.adam_m`, `<p>.adam_v`): the arrays themselves, not copies. */
  state(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, { m, v }] of this.#moments) {
      const names = stateNames(name);
      out.set(names.m, m).set(names.v, v);
    }
    return out;
  }
}

/** The element loop, kept monomorphic and free of lookups: GBs of state pass through it. */
function adamWLoop(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  beta1: number,
  gScale: number,
  beta2: number,
  g2Scale: number,
  keep: number,
  stepSize: number,
  epsHat: number,
): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + gScale * gi;
    const vi = beta2 * v[i]! + g2Scale * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = keep * p[i]! - stepSize * mi / (Math.sqrt(vi) + epsHat);
  }
}
