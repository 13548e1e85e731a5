/**
 * Choosing which documents of a class to keep so that its size meets a target: documents are
 * taken in a seeded pseudo-random order until the target is reached, skipping any document that
 * would overshoot the allowed excess. Pure functions over arrays, so memory is a few numbers per
 * document, never the text.
 *
 * @module
 */

/**
 * Picks documents in ascending `priority` until their total `size` reaches `target`, never going
 * above `cap` (documents that would overshoot are skipped, smaller ones later may still fit).
 *
 * @param priority A seeded uniform number per document (the order of selection).
 * @param size The measured size of each document.
 * @param target The size to reach.
 * @param cap The size never to exceed (≥ target).
 * @returns A flag per document and the total size selected.
 *
 * @example
 * ```ts
 * import { selectToTarget } from "./select.ts";
 * // By priority: doc 1 (5); doc 2 (7) would overshoot the cap 10, skipped; doc 0 (4) → 9 ≥ 8.
 * const { selected, total } = selectToTarget([0.3, 0.1, 0.2], [4, 5, 7], 8, 10);
 * console.assert(total === 9 && selected.join() === "1,1,0");
 * ```
 */
export function selectToTarget(
  priority: ArrayLike<number>,
  size: ArrayLike<number>,
  target: number,
  cap: number,
): { selected: Uint8Array; total: number } {
  const order = Array.from({ length: priority.length }, (_, i) => i);
  order.sort((a, b) => priority[a]! - priority[b]! || a - b);
  const selected = new Uint8Array(priority.length);
  let total = 0;
  for (const i of order) {
    if (total >= target) break;
    if (total + size[i]! > cap) continue;
    selected[i] = 1;
    total += size[i]!;
  }
  return { selected, total };
}

/**
 * The per-class target for `--target`: `"min"` is the smallest class's available size (the
 * paper's behaviour); a number is taken as is.
 *
 * @example
 * ```ts
 * import { resolveTarget } from "./select.ts";
 * console.assert(resolveTarget("min", [30, 10, 20]) === 10);
 * console.assert(resolveTarget(15, [30, 10, 20]) === 15);
 * ```
 */
export function resolveTarget(target: "min" | number, available: number[]): number {
  return target === "min" ? Math.min(...available) : target;
}
