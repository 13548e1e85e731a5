/**
 * How a document's size is measured when balancing: Unicode code points, UTF-8 bytes, documents,
 * or tokens of the project tokenizer.
 *
 * @module
 */

/** The units `moe balance --by` accepts. */
export const MEASURES = ["chars", "bytes", "docs", "tokens"] as const;
/** One of {@linkcode MEASURES}. */
export type MeasureName = typeof MEASURES[number];

/** Every size of one document; `tokens` only when a tokenizer is given. */
export interface Sizes {
  docs: number;
  chars: number;
  bytes: number;
  tokens?: number;
}

/**
 * Number of Unicode code points in `text` (a surrogate pair counts once).
 *
 * @example
 * ```ts
 * import { countChars } from "./measure.ts";
 * console.assert(countChars("aé😀") === 3);
 * ```
 */
export function countChars(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Number of bytes of `text` in UTF-8 (a lone surrogate counts as its 3-byte replacement).
 *
 * @example
 * ```ts
 * import { utf8Length } from "./measure.ts";
 * console.assert(utf8Length("aé😀") === 1 + 2 + 4);
 * ```
 */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * All sizes of `text`; `countTokens` adds the token count.
 *
 * @example
 * ```ts
 * import { measure } from "./measure.ts";
 * const s = measure("héllo");
 * console.assert(s.docs === 1 && s.chars === 5 && s.bytes === 6 && s.tokens === undefined);
 * ```
 */
export function measure(text: string, countTokens?: (text: string) => number): Sizes {
  const sizes: Sizes = { docs: 1, chars: countChars(text), bytes: utf8Length(text) };
  if (countTokens) sizes.tokens = countTokens(text);
  return sizes;
}
