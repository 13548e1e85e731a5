/**
 * A hand-written matcher for {@linkcode SPLIT_PATTERN}: finds where the piece starting at an index
 * ends, without building substrings or running the regex engine. It must agree with the regex on
 * every input (the tests compare the two on the fixtures and on random strings); the encoder uses
 * it, the trainer and `pretokenize()` use the regex.
 *
 * @module
 */

const LETTER = 1, NUMBER = 2, SPACE = 4;

/** Classes of the BMP code points: letter (\p{L}), number (\p{N}), white space. */
const BMP: Uint8Array = (() => {
  const table = new Uint8Array(0x10000);
  const letter = /\p{L}/u, number = /\p{N}/u, space = /\p{White_Space}/u;
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue; // lone surrogates: none of the three
    const ch = String.fromCharCode(cp);
    table[cp] = (letter.test(ch) ? LETTER : 0) | (number.test(ch) ? NUMBER : 0) |
      (space.test(ch) ? SPACE : 0);
  }
  return table;
})();

const astral = new Map<number, number>();

function astralClass(cp: number): number {
  let c = astral.get(cp);
  if (c === undefined) {
    const ch = String.fromCodePoint(cp);
    c = (/\p{L}/u.test(ch) ? LETTER : 0) | (/\p{N}/u.test(ch) ? NUMBER : 0);
    astral.set(cp, c);
  }
  return c;
}

/** Class bits and width (1 or 2 UTF-16 units) of the code point at `i`, packed as class·4 + width. */
function at(text: string, i: number): number {
  const u = text.charCodeAt(i);
  if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
    const v = text.charCodeAt(i + 1);
    if (v >= 0xdc00 && v <= 0xdfff) {
      return astralClass(((u - 0xd800) << 10) + v - 0xdc00 + 0x10000) * 4 + 2;
    }
  }
  return BMP[u]! * 4 + 1;
}

const isCrLf = (u: number) => u === 10 || u === 13;
const isSpaceTab = (u: number) => u === 32 || u === 9;

/** End of the run of code points from `i` whose class has `bit`, at most `max` of them. */
function runOf(text: string, i: number, bit: number, max = Infinity): number {
  let n = 0;
  while (i < text.length && n < max) {
    const x = at(text, i);
    if (((x >> 2) & bit) === 0) break;
    i += x & 3;
    n++;
  }
  return i;
}

/** End of a line-break alternative's optional indentation from `j`: all spaces/tabs but the last. */
function indentEnd(text: string, j: number): number {
  let r = j;
  while (r < text.length && isSpaceTab(text.charCodeAt(r))) r++;
  return r > j ? r - 1 : j;
}

/**
 * The end (exclusive) of the pre-tokenizer piece that starts at `i` (< `text.length`).
 *
 * @param text The text being split.
 * @param i Start of the piece.
 * @returns Index just after the piece.
 */
export function pieceEnd(text: string, i: number): number {
  const len = text.length, u = text.charCodeAt(i), x = at(text, i), cls = x >> 2, w = x & 3;
  // 1. '(?:[sdmtSDMT]|[lL][lL]|[vV][eE]|[rR][eE])
  if (u === 39 && i + 1 < len) {
    const a = text.charCodeAt(i + 1) | 32, b = i + 2 < len ? text.charCodeAt(i + 2) | 32 : 0;
    if (a === 115 || a === 100 || a === 109 || a === 116) return i + 2;
    if ((a === 108 && b === 108) || (a === 118 && b === 101) || (a === 114 && b === 101)) {
      return i + 3;
    }
  }
  // 2. [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls & LETTER) return runOf(text, i, LETTER);
  if (!(cls & NUMBER) && !isCrLf(u) && i + w < len && (at(text, i + w) >> 2) & LETTER) {
    return runOf(text, i + w, LETTER);
  }
  // 3. \p{N}{1,3}
  if (cls & NUMBER) return runOf(text, i, NUMBER, 3);
  // 4. " ?[^\s\p{L}\p{N}]+" then optional line breaks and indentation
  const p = u === 32 ? i + 1 : i;
  let q = p;
  while (q < len && ((at(text, q) >> 2) & (LETTER | NUMBER | SPACE)) === 0) q += at(text, q) & 3;
  if (q > p) {
    if (q < len && isCrLf(text.charCodeAt(q))) {
      while (q < len && isCrLf(text.charCodeAt(q))) q++;
      return indentEnd(text, q);
    }
    return q;
  }
  // 5.–7. white space: the run from i (white space is never astral)
  let e = i, lastBreak = -1;
  while (e < len && BMP[text.charCodeAt(e)]! & SPACE) {
    if (isCrLf(text.charCodeAt(e))) lastBreak = e;
    e++;
  }
  // 5. \s*[\r\n] and indentation: subtle: \s* backtracks to the last line break of the run
  if (lastBreak >= 0) return indentEnd(text, lastBreak + 1);
  // 6. \s+(?!\S): the run, less its last character when a non-space follows
  if (e === len) return e;
  if (e - i >= 2) return e - 1;
  // 7. \s+ (here a single white-space character before a non-space) — or, when i is not white
  // space at all, a lone code point no alternative above took (cannot happen: 2 or 4 takes it)
  return e > i ? e : i + w;
}
