/**
 * The numbers of the forgetting study (DESIGN.md "Forgetting study"): each regime's per-class
 * validation loss after every phase of the sequential order, and forgetting = how much each
 * earlier class's loss rose after the later phases.
 *
 * For class `c` trained in phase `k` (0-based) of `P`, with `L_j(c)` its validation loss after
 * phase `j`: `forgetting(c) = L_{P−1}(c) − L_k(c)` and `maxRise(c) = max_{j>k} L_j(c) − L_k(c)`.
 * The balanced regime is measured at the same steps, so its numbers are the control: there the
 * "phases" are only points in time, and its losses should keep falling.
 *
 * @module
 */
import type { ClassVal, RunMetrics } from "../../core/report/mod.ts";

/** A regime's validation after each phase, for one seed (null where it was not reached). */
export interface PhaseVals {
  regime: string;
  seed: number;
  /** `vals[j]`: per-class validation after phase j. */
  vals: (ClassVal | null)[];
}

/** Forgetting of one earlier class in one regime and seed. */
export interface ClassForgetting {
  regime: string;
  seed: number;
  class: string;
  /** The phase that trained it (0-based). */
  phase: number;
  /** Its loss right after its phase. */
  learned: number;
  /** Its loss after the last phase. */
  final: number;
  /** final − learned (> 0: forgotten). */
  forgetting: number;
  /** The largest rise after its phase. */
  maxRise: number;
}

/**
 * The steps at which phases end: `steps · j / P` for j = 1 … P.
 *
 * @example
 * ```ts
 * import { phaseEnds } from "./forgetting_analysis.ts";
 * console.assert(phaseEnds(160, 4).join() === "40,80,120,160");
 * ```
 */
export function phaseEnds(steps: number, phases: number): number[] {
  return Array.from({ length: phases }, (_, j) => (steps * (j + 1)) / phases);
}

/**
 * A run's validation at each phase end (the eval record logged at that step).
 *
 * @param m The run's metrics.
 * @param ends The phase-end steps.
 * @returns One entry per phase, null where no evaluation was logged at that step.
 */
export function valsAtPhaseEnds(m: RunMetrics, ends: number[]): (ClassVal | null)[] {
  return ends.map((step) => m.eval.findLast((e) => e.step === step)?.val ?? null);
}

/**
 * The forgetting of every class but the last, from one regime's phase validations.
 *
 * @param p The regime's validation after each phase.
 * @param order The class order (class k is trained in phase k of the sequential regime).
 * @returns One entry per earlier class whose numbers are all known.
 *
 * @example
 * ```ts
 * import { forgetting } from "./forgetting_analysis.ts";
 * const v = (en: number, fr: number) => ({ en: { loss: en, ppl: Math.exp(en) }, fr: { loss: fr, ppl: Math.exp(fr) } });
 * const [en] = forgetting({ regime: "sequential", seed: 1, vals: [v(2, 5), v(3, 2)] }, ["en", "fr"]);
 * console.assert(en!.forgetting === 1 && en!.maxRise === 1);
 * ```
 */
export function forgetting(p: PhaseVals, order: string[]): ClassForgetting[] {
  const out: ClassForgetting[] = [];
  for (const [k, c] of order.slice(0, -1).entries()) {
    const losses = p.vals.map((v) => v?.[c]?.loss ?? NaN);
    const learned = losses[k]!;
    const final = losses[order.length - 1]!;
    const later = losses.slice(k + 1);
    if (![learned, final, ...later].every(Number.isFinite)) continue;
    out.push({
      regime: p.regime,
      seed: p.seed,
      class: c,
      phase: k,
      learned,
      final,
      forgetting: final - learned,
      maxRise: Math.max(...later.map((l) => l - learned)),
    });
  }
  return out;
}
