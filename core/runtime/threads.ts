/**
 * The default host thread count of every backend.
 *
 * @module
 */

/**
 * The number of logical cores Deno reports (at least 1): the default for `--threads`.
 *
 * @returns The default thread count.
 *
 * @example
 * ```ts
 * import { defaultThreads } from "./threads.ts";
 * console.assert(defaultThreads() >= 1);
 * ```
 */
export function defaultThreads(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}
