/**
 * The two pure helpers of byte-pair encoding, in the spirit of minbpe: count adjacent pairs, and
 * replace every occurrence of one pair by a new id. The fast trainer does the same work
 * incrementally; these are its readable reference (and the tests compare the two).
 *
 * @module
 */

/**
 * Packs a pair of ids into one number key: `a · 2²¹ + b` (ids stay below 2²¹ = 2 097 152).
 *
 * @example
 * ```ts
 * import { pairKey } from "./pairs.ts";
 * console.assert(pairKey(1, 2) === 2 ** 21 + 2);
 * ```
 */
export function pairKey(a: number, b: number): number {
  return a * 2097152 + b;
}

/**
 * Counts adjacent pairs of `ids`, each occurrence weighted by `weight`, into `counts`.
 *
 * Worked example: `[1, 2, 3, 1, 2]` has pairs (1,2) ×2, (2,3) ×1, (3,1) ×1.
 *
 * @param ids A sequence of token ids.
 * @param counts Map from {@linkcode pairKey} to count; updated in place and returned.
 * @param weight How many times the sequence occurs (word-count de-duplication).
 * @returns `counts`.
 *
 * @example
 * ```ts
 * import { countPairs, pairKey } from "./pairs.ts";
 * const counts = countPairs([1, 2, 3, 1, 2]);
 * console.assert(counts.get(pairKey(1, 2)) === 2 && counts.get(pairKey(2, 3)) === 1);
 * console.assert(countPairs([1, 2], new Map(), 5).get(pairKey(1, 2)) === 5);
 * ```
 */
export function countPairs(
  ids: ArrayLike<number>,
  counts: Map<number, number> = new Map(),
  weight = 1,
): Map<number, number> {
  for (let i = 0; i + 1 < ids.length; i++) {
    const key = pairKey(ids[i]!, ids[i + 1]!);
    counts.set(key, (counts.get(key) ?? 0) + weight);
  }
  return counts;
}

/**
 * Replaces every occurrence of the pair (`a`, `b`) in `ids` by `id`, scanning left to right.
 *
 * Worked example: merging (1,2) → 9 in `[1, 2, 3, 1, 2]` gives `[9, 3, 9]`; merging (1,1) → 9 in
 * `[1, 1, 1]` gives `[9, 1]` (subtle: occurrences overlap, and the leftmost one wins).
 *
 * @param ids A sequence of token ids (not modified).
 * @param a Left id of the pair.
 * @param b Right id of the pair.
 * @param id The id that replaces the pair.
 * @returns A new sequence.
 *
 * @example
 * ```ts
 * import { mergePair } from "./pairs.ts";
 * console.assert(mergePair([1, 2, 3, 1, 2], 1, 2, 9).join() === "9,3,9");
 * console.assert(mergePair([1, 1, 1], 1, 1, 9).join() === "9,1");
 * ```
 */
export function mergePair(ids: ArrayLike<number>, a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === a && i + 1 < ids.length && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else {
      out.push(ids[i]!);
    }
  }
  return out;
}
