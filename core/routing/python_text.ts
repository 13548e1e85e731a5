/**
 * Where Python source holds natural language rather than code: string literals (docstrings
 * included) and comments. A short window that lies wholly inside them is English (or another
 * language) text, with no code in it; `moe router eval --skip-text-in py` leaves such windows out,
 * to measure the router on windows whose class is decidable from their content.
 *
 * @module
 */

/**
 * Marks the characters of `source` inside string literals (quotes and prefixes' quotes included,
 * triple-quoted ones across lines) and comments (from `#` to the end of the line) with 1, code
 * with 0. A lexer, not a parser: an unterminated literal runs to the end of its line (or of the
 * text, when triple-quoted).
 *
 * @param source Python source text.
 * @returns One flag per UTF-16 code unit.
 *
 * @example
 * ```ts
 * import { pythonTextMask } from "./python_text.ts";
 * const m = pythonTextMask('x = "a#b"  # note');
 * console.assert(m[0] === 0 && m[4] === 1 && m[6] === 1 && m[10] === 0 && m[12] === 1);
 * ```
 */
export function pythonTextMask(source: string): Uint8Array {
  const mask = new Uint8Array(source.length);
  const n = source.length;
  let i = 0;
  while (i < n) {
    const ch = source[i]!;
    if (ch === "#") {
      const eol = source.indexOf("\n", i);
      const end = eol < 0 ? n : eol;
      mask.fill(1, i, end);
      i = end;
    } else if (ch === '"' || ch === "'") {
      const quote = source.startsWith(ch + ch + ch, i) ? ch + ch + ch : ch;
      let j = i + quote.length;
      while (j < n) {
        if (source[j] === "\\") j += 2;
        else if (quote.length === 1 && source[j] === "\n") break;
        else if (source.startsWith(quote, j)) {
          j += quote.length;
          break;
        } else j++;
      }
      const end = Math.min(j, n);
      mask.fill(1, i, end);
      i = end;
    } else i++;
  }
  return mask;
}

/**
 * Whether `source[start, end)` is text only: every non-whitespace character lies inside a string
 * literal or comment (see {@linkcode pythonTextMask}).
 *
 * @param source The source text.
 * @param mask Its mask.
 * @param start First character of the window.
 * @param end One past its last character.
 * @returns True when the window has no code character.
 *
 * @example
 * ```ts
 * import { isPythonText, pythonTextMask } from "./python_text.ts";
 * const src = 'def f():\n    """Return the answer."""\n';
 * const m = pythonTextMask(src);
 * console.assert(isPythonText(src, m, 17, 30) && !isPythonText(src, m, 0, 12));
 * ```
 */
export function isPythonText(
  source: string,
  mask: Uint8Array,
  start: number,
  end: number,
): boolean {
  for (let i = start; i < end; i++) {
    if (mask[i] === 0) {
      const c = source.charCodeAt(i);
      if (!(c === 32 || c === 10 || c === 9 || c === 13)) return false;
    }
  }
  return true;
}
