/**
 * The per-token loss of a mixture of next-token distributions from each member's own loss, for
 * combinations that need no graph of their own (`probability-mean`, soft routing with separate
 * embeddings).
 *
 * @module
 */
import type { Losses } from "./token_losses.ts";

/**
 * Per-token loss of a weighted mixture of next-token distributions from each one's loss:
 * `−log Σᵢ wᵢe^{−aᵢ} = m − log Σᵢ wᵢe^{−(aᵢ − m)}` with `m = minᵢ aᵢ` (no term underflows).
 *
 * @example
 * ```ts
 * import { weightedMixLoss } from "./mixture_loss.ts";
 * console.assert(Math.abs(weightedMixLoss([2, 2, 2], [0.2, 0.3, 0.5]) - 2) < 1e-12);
 * console.assert(weightedMixLoss([0.5, 9], [1, 0]) === 0.5);
 * ```
 */
export function weightedMixLoss(losses: readonly number[], weights: readonly number[]): number {
  const m = Math.min(...losses);
  let sum = 0;
  losses.forEach((a, i) => sum += weights[i]! * Math.exp(m - a));
  return m - Math.log(sum);
}

/**
 * Per-token loss of the equal mixture of two next-token distributions, from each one's loss:
 * `−log(½e^{−a} + ½e^{−b}) = min(a, b) + ln 2 − log1p(e^{−|a − b|})`.
 */
export function mixLoss(a: number, b: number): number {
  return Math.min(a, b) + Math.LN2 - Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** {@linkcode mixLoss} of two models' per-token losses, class by class. */
export function mixLosses(a: Map<string, Losses>, b: Map<string, Losses>): Map<string, Losses> {
  const out = new Map<string, Losses>();
  for (const [cls, la] of a) {
    const lb = b.get(cls)!;
    out.set(cls, la.map((x, i) => mixLoss(x, lb[i]!)));
  }
  return out;
}
