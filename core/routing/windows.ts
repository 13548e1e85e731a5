/**
 * Character windows cut from documents: the router sees prompts and sequences of any length, so
 * it is trained and evaluated on windows rather than whole documents.
 *
 * @module
 */

/**
 * A small seeded PRNG (mulberry32) so that windows, and with them models and reports, are
 * reproducible.
 *
 * @param seed Any 32-bit integer.
 * @returns A function giving uniform numbers in [0, 1).
 *
 * @example
 * ```ts
 * import { seededRandom } from "./windows.ts";
 * console.assert(seededRandom(1)() === seededRandom(1)());
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How to cut windows. */
export interface WindowOptions {
  /** Number of windows. */
  count: number;
  /** Window length in characters, or a range sampled log-uniformly (short windows as often as long). */
  length: number | { min: number; max: number };
  /** PRNG seed. */
  seed: number;
  /**
   * Fraction of windows whose start is moved forward to the next line start (when one lies in
   * the first half of the window) or else to the next word start, so that the model also sees
   * text as prompts begin: "import numpy as np", not "rt numpy as np\n". Default 0 (evaluation
   * windows start anywhere).
   */
  snap?: number;
  /**
   * Leaves out windows for which it returns true (given the document's index in `texts` and the
   * window's character range); another window is drawn in their place.
   */
  reject?: (doc: number, start: number, end: number) => boolean;
}

/**
 * Cuts `count` windows from `texts`. A document is chosen with probability proportional to its
 * length (so every character is equally likely to be covered), then a uniformly placed window;
 * a document shorter than the window is taken whole (a one-sentence input stays one sentence).
 * Windows that are only whitespace are skipped.
 *
 * @param texts Documents of one class.
 * @param options Count, length and seed.
 * @returns The windows (fewer than `count` only if every text is blank).
 *
 * @example
 * ```ts
 * import { sampleWindows } from "./windows.ts";
 * const w = sampleWindows(["abcdefghij"], { count: 3, length: 4, seed: 1 });
 * console.assert(w.length === 3 && w.every((s) => s.length === 4));
 * ```
 */
export function sampleWindows(texts: readonly string[], options: WindowOptions): string[] {
  const cumulative: number[] = [];
  let total = 0;
  for (const t of texts) cumulative.push(total += t.trim() === "" ? 0 : t.length);
  if (total === 0) return [];
  const random = seededRandom(options.seed);
  const out: string[] = [];
  const { length } = options;
  for (let tries = 0; out.length < options.count && tries < options.count * 20; tries++) {
    const target = random() * total;
    let lo = 0, hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    const text = texts[lo]!;
    const len = typeof length === "number"
      ? length
      : Math.round(Math.exp(Math.log(length.min) + random() * Math.log(length.max / length.min)));
    let start = Math.floor(random() * Math.max(0, text.length - len + 1));
    if (options.snap && random() < options.snap) start = snapStart(text, start, len);
    const window = text.slice(start, start + len);
    if (options.reject?.(lo, start, start + window.length)) continue;
    if (window.trim() !== "") out.push(window);
  }
  return out;
}

/** The next line start within the first half of the window, else the next word start. */
function snapStart(text: string, start: number, len: number): number {
  if (start === 0) return 0;
  const line = text.indexOf("\n", start - 1);
  if (line >= 0 && line + 1 < start + len / 2) {
    let i = line + 1;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    return i < start + len - 1 ? i : line + 1;
  }
  const m = /\s\S/.exec(text.slice(start - 1, start + len / 2));
  return m ? start - 1 + m.index + 1 : start;
}
