/**
 * Group-aware train/val/test splitting: whole groups (a novel, a package) are assigned to splits so
 * that no group appears in two splits, and each split's share comes as close to its fraction as
 * whole groups allow.
 *
 * @module
 */

/** The split names, in the order of the `--split` fractions. */
export const SPLITS = ["train", "val", "test"] as const;
/** One of {@linkcode SPLITS}. */
export type SplitName = typeof SPLITS[number];

/**
 * Parses `--split` fractions such as `"0.98,0.01,0.01"`.
 *
 * @throws {RangeError} Unless there are three non-negative numbers summing to 1 with train > 0.
 *
 * @example
 * ```ts
 * import { parseSplit } from "./split.ts";
 * console.assert(parseSplit("0.8,0.1,0.1")[0] === 0.8);
 * ```
 */
export function parseSplit(value: string): number[] {
  const parts = value.split(",").map((p) => Number(p));
  const sum = parts.reduce((a, b) => a + b, 0);
  if (
    parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) ||
    Math.abs(sum - 1) > 1e-9 || parts[0] === 0
  ) {
    throw new RangeError(
      `Invalid split "${value}": expected three fractions train,val,test summing to 1 with train > 0`,
    );
  }
  return parts;
}

/**
 * Assigns groups to splits. Groups are visited in seeded order (`order`); the small splits are
 * filled first, each taking groups that fit into what it still lacks (1.5× slack, so one slightly
 * larger group can still be taken), and everything left goes to train. Each split with a non-zero
 * fraction gets at least one group while at least one group remains for train.
 *
 * @param sizes Size of each group (the same measure as balancing).
 * @param order Group indices in seeded pseudo-random order.
 * @param fractions One fraction per split (see {@linkcode parseSplit}).
 * @returns The split index of each group.
 *
 * @example
 * ```ts
 * import { assignGroups } from "./split.ts";
 * const split = assignGroups([10, 10, 10, 10, 10], [4, 2, 0, 3, 1], [0.6, 0.2, 0.2]);
 * console.assert(split.filter((s) => s === 0).length === 3);
 * console.assert(split.filter((s) => s === 1).length === 1 && split.filter((s) => s === 2).length === 1);
 * ```
 */
export function assignGroups(sizes: number[], order: number[], fractions: number[]): Uint8Array {
  const total = sizes.reduce((a, b) => a + b, 0);
  const split = new Uint8Array(sizes.length); // 0 = train
  const free = new Set(order);
  // Smallest fractions first: they are the hardest to fill with whole groups.
  const small = fractions.map((f, s) => ({ f, s })).filter(({ f, s }) => s > 0 && f > 0);
  small.sort((a, b) => a.f - b.f || a.s - b.s);
  for (const { f, s } of small) {
    const limit = f * total * 1.5;
    let taken = 0;
    for (const g of order) {
      if (free.size <= 1 || taken >= f * total) break;
      if (free.has(g) && taken + sizes[g]! <= limit) {
        split[g] = s;
        free.delete(g);
        taken += sizes[g]!;
      }
    }
    // Nothing fitted: the smallest group still beats an empty validation or test split.
    if (taken === 0 && free.size > 1) {
      const smallest = [...free].reduce((a, b) => (sizes[b]! < sizes[a]! ? b : a));
      split[smallest] = s;
      free.delete(smallest);
    }
  }
  return split;
}
