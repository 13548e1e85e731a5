/**
 * Routing regret (issue 18): how much a hard routing decision costs against the best choice it
 * could have made. Per sequence, the mean loss of the chosen expert minus the lowest mean loss
 * of any choice on that sequence — oracle-best, not oracle-label: on a function list quoted in
 * a French manual page the best expert may be Python's. Regret is ≥ 0, and 0 exactly when the
 * choice was the best; its mean (nats/token) and the share of best choices measure a router for
 * a MoE where label accuracy cannot.
 *
 * @module
 */
import type { Losses } from "./token_losses.ts";

/** Mean regret (nats per token) and the share of sequences whose choice was the best. */
export interface RegretScore {
  regret: number;
  bestShare: number;
}

/** A hard-routed row's regret per class (or window set) and overall. */
export interface RowRegret {
  perClass: Record<string, RegretScore>;
  /** Mean of the per-class values (as the table's `mean` column). */
  mean: RegretScore;
}

/**
 * The mean (float64) of the per-token losses at positions `[from, to)`.
 *
 * @example
 * ```ts
 * import { spanMean } from "./routing_regret.ts";
 * console.assert(spanMean(new Float32Array([1, 2, 3, 4]), 1, 3) === 2.5);
 * ```
 */
export function spanMean(losses: Losses, from: number, to: number): number {
  let s = 0;
  for (let t = from; t < to; t++) s += losses[t]!;
  return s / Math.max(1, to - from);
}

/**
 * The choice with the lowest value (the first of a tie, in the map's order).
 *
 * @throws {RangeError} If there is no choice.
 *
 * @example
 * ```ts
 * import { lowest } from "./routing_regret.ts";
 * console.assert(lowest(new Map([["en", 2], ["py", 1.5], ["fr", 1.5]])) === "py");
 * ```
 */
export function lowest(values: ReadonlyMap<string, number>): string {
  let best: string | null = null;
  for (const [k, v] of values) if (best === null || v < values.get(best)!) best = k;
  if (best === null) throw new RangeError("Cannot pick the best choice: there is none");
  return best;
}

/** The choices of a hard-routed row: choice → class → `[rows, T]` losses. */
export type Choices = ReadonlyMap<string, ReadonlyMap<string, Losses>>;

/**
 * The regret of a hard-routed row over whole sequences of `seqLen` tokens.
 *
 * @param rows Sequences per class.
 * @param choices What the row can choose from, with its losses on every class.
 * @param pick The row's choice for sequence `row` of class `cls` (a key of `choices`).
 * @returns Per class and overall: mean regret and best share.
 *
 * @example
 * ```ts
 * import { rowRegret } from "./routing_regret.ts";
 * const choices = new Map([
 *   ["en", new Map([["en", new Float32Array([1, 1, 3, 3])]])],
 *   ["py", new Map([["en", new Float32Array([2, 2, 1, 1])]])],
 * ]);
 * // Two sequences of 2 tokens: always "en" loses 2 nats/token on the second one.
 * const r = rowRegret(new Map([["en", 2]]), 2, choices, () => "en");
 * console.assert(r.mean.regret === 1 && r.mean.bestShare === 0.5);
 * ```
 */
export function rowRegret(
  rows: ReadonlyMap<string, number>,
  seqLen: number,
  choices: Choices,
  pick: (cls: string, row: number) => string,
): RowRegret {
  const perClass: Record<string, RegretScore> = {};
  for (const [cls, n] of rows) {
    let regret = 0, best = 0;
    for (let r = 0; r < n; r++) {
      const means = new Map<string, number>();
      for (const [name, l] of choices) {
        means.set(name, spanMean(l.get(cls)!, r * seqLen, (r + 1) * seqLen));
      }
      const chosen = means.get(pick(cls, r))!, min = means.get(lowest(means))!;
      regret += chosen - min;
      if (chosen === min) best++;
    }
    perClass[cls] = { regret: regret / Math.max(1, n), bestShare: best / Math.max(1, n) };
  }
  return { perClass, mean: meanScore(Object.values(perClass)) };
}

/**
 * The mean of regret scores (0 and 0 for none).
 *
 * @example
 * ```ts
 * import { meanScore } from "./routing_regret.ts";
 * const m = meanScore([{ regret: 0, bestShare: 1 }, { regret: 1, bestShare: 0 }]);
 * console.assert(m.regret === 0.5 && m.bestShare === 0.5);
 * ```
 */
export function meanScore(scores: readonly RegretScore[]): RegretScore {
  const n = Math.max(1, scores.length);
  return {
    regret: scores.reduce((s, v) => s + v.regret, 0) / n,
    bestShare: scores.reduce((s, v) => s + v.bestShare, 0) / n,
  };
}
