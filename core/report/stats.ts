/**
 * Summary statistics over repeated runs (seeds).
 *
 * @module
 */

/**
 * Mean and sample standard deviation (n − 1; 0 for one value).
 *
 * @example
 * ```ts
 * import { stats } from "./stats.ts";
 * const s = stats([1, 2, 3]);
 * console.assert(s.mean === 2 && s.std === 1);
 * ```
 */
export function stats(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean: n > 0 ? mean : NaN, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}
