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

/** What {@linkcode NoDocumentFitsError} reports: a class, its sizes and the bounds it missed. */
export interface NoDocumentFitsDetails {
  cls: string;
  /** The size measure (chars, bytes, tokens, docs). */
  by: string;
  /** The class's size and number of usable documents. */
  available: number;
  documents: number;
  /** Its smallest document's size: the least any selection would hold. */
  smallest: number;
  target: number;
  /** Allowed excess over the target, in percent. */
  maxDiffPercent: number;
}

/**
 * Every document of a class is larger than the target plus its allowed excess, so the class would
 * be left empty although it has text. Carries what the command needs to say which bounds would
 * let its smallest document in.
 *
 * @example
 * ```ts
 * import { NoDocumentFitsError } from "./select.ts";
 * const e = new NoDocumentFitsError({
 *   cls: "py", by: "chars", available: 3000, documents: 3, smallest: 800, target: 115,
 *   maxDiffPercent: 1,
 * });
 * console.assert(e.percentToFit === 596); // 115 · (1 + 596 %) ≥ 800
 * console.assert(e.message.startsWith('Cannot balance class "py": it has 3000 chars'));
 * ```
 */
export class NoDocumentFitsError extends RangeError {
  override name = "NoDocumentFitsError";
  /** The smallest whole excess in percent over the target that holds the smallest document. */
  readonly percentToFit: number;

  constructor(readonly details: NoDocumentFitsDetails) {
    const d = details;
    super(
      `Cannot balance class "${d.cls}": it has ${d.available} ${d.by}, but none of its ` +
        `${d.documents} documents fits the target ${d.target} ${d.by} + ${d.maxDiffPercent} % ` +
        `(the smallest has ${d.smallest} ${d.by})`,
    );
    let percent = Math.max(0, Math.ceil((d.smallest / d.target - 1) * 100));
    // subtle: the ceiling of a rounded quotient can land one short of the cap the selection uses.
    while (d.target * (1 + percent / 100) < d.smallest) percent++;
    this.percentToFit = percent;
  }
}

/**
 * The smallest of `sizes` (a loop: a class may have millions of documents, too many to spread).
 *
 * @example
 * ```ts
 * import { smallestSize } from "./select.ts";
 * console.assert(smallestSize([7, 3, 9]) === 3);
 * ```
 */
export function smallestSize(sizes: ArrayLike<number>): number {
  let smallest = Infinity;
  for (let i = 0; i < sizes.length; i++) smallest = Math.min(smallest, sizes[i]!);
  return smallest;
}
