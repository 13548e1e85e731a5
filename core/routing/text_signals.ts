/**
 * Cheap, vocabulary-free signals that separate prose from code, and closed-class (function) word
 * indicators that identify a language whatever the topic.
 *
 * Why they exist: hashed n-grams with TF-IDF weight rare, topical n-grams most. Trained on novels
 * and the Python standard library, such a model learns "technical English word ⇒ Python", and sends
 * modern technical prose (manuals, news) to the code expert. The signals below describe the
 * *shape* of code (indentation, calls, operators, identifier shapes) and the *grammar* of prose
 * (function words, sentence boundaries); they do not depend on the topic, so they generalise to
 * text unlike the training corpus. They are appended to the n-gram vector with a larger scale than
 * any single n-gram, so an L2-regularised model finds it cheaper to rely on them.
 *
 * Every signal is an indicator (0 or 1); binned ratios are one-hot over their bins.
 *
 * @module
 */

/** One signal: its name (stored in the model file) and a test on the raw text. */
interface Signal {
  readonly name: string;
  readonly test: (text: string) => boolean;
}

const re = (name: string, pattern: RegExp): Signal => ({ name, test: (t) => pattern.test(t) });

/** Structural code signals (regular expressions on the raw, unnormalised text). */
const CODE_SIGNALS: readonly Signal[] = [
  // A line that starts with two or more spaces or a tab: Python blocks, wrapped docstrings.
  re("indented_line", /\n(?: {2,}|\t)/),
  // A line ending in ":" (a Python block header).
  re("colon_end_of_line", /:[ \t]*\n/),
  // An identifier directly followed by "(" (a call or definition); prose puts a space before "(".
  re("call", /[A-Za-z0-9_\]]\(/),
  re("empty_parens", /\(\)/),
  // Attribute access: identifier "." identifier of 2+ characters without spaces (os.path).
  re("attribute_access", /[A-Za-z_]\w*\.[a-z_]\w/),
  // snake_case or dunder identifiers.
  re("snake_case", /[A-Za-z0-9]_[A-Za-z0-9]|__\w/),
  // camelCase inside one word.
  re("camel_case", /[a-z][A-Z][a-z]/),
  // Assignment and comparison operators surrounded as code writes them.
  re("operator", /[^=!<>]=[^=]|==|!=|\+=|-=|<=|>=|->|\*\*/),
  re("brackets", /[[\]{}]/),
  re("hash_comment", /(?:^|\n)[ \t]*# |\S {2}# /),
  re("triple_quote", /"""|'''/),
  // A Python keyword at the start of a line.
  re(
    "keyword_line_start",
    /\n[ \t]*(?:def|class|import|from|return|if|elif|else|for|while|try|except|with|raise|assert|yield|pass)\b/,
  ),
  // A whole Python statement at the start of a line or of the text: short prompts are often one
  // line of code ("import numpy as np") with none of the layout signals above.
  re(
    "python_statement",
    /(?:^|\n)[ \t]*(?:import [\w.]+(?: as \w+)?[ \t]*(?:$|\n|,)|from [\w.]+ import |def \w+\(|class \w+[:(]|elif |except\b|raise \w+\()/,
  ),
  re("python_words", /\b(?:self|elif|lambda|isinstance|kwargs|def|cls|args)\b/),
  // Quoted string literals with no space inside: 'utf-8', "name".
  re("string_literal", /(['"])[\w.-]+\1/),
  re("spaces_run", /\S {2,}\S/),
  // Indentation or alignment anywhere, also where the window starts or ends inside it (normalised
  // n-grams cannot see it: whitespace runs collapse to one space). Prose has no runs of 3+ spaces.
  re("space_run", / {3,}|\t/),
  // A hard line break inside a sentence (letter or comma, newline, lowercase): wrapped docstrings
  // and comments; prose paragraphs end with punctuation.
  re("wrapped_line", /[\p{L},;]\n[ \t]*(?:# )?\p{Ll}/u),
];

/**
 * Whether any structural code signal fires on `text` (used to keep commented-out code and
 * doctests out of the prose taken from code).
 *
 * @param text Raw text.
 * @returns True if the text shows code structure.
 *
 * @example
 * ```ts
 * import { looksLikeCode } from "./text_signals.ts";
 * console.assert(looksLikeCode("x = f(y)") && !looksLikeCode("Return the value."));
 * ```
 */
export function looksLikeCode(text: string): boolean {
  return CODE_SIGNALS.some((s) => s.test(text)) || /^\s*(?:>>>|\.\.\.|[-=*~^]{3,})/.test(text);
}

/** Prose signals. */
const PROSE_SIGNALS: readonly Signal[] = [
  // A sentence boundary: lowercase letter, ".", "!" or "?", a space, an uppercase letter.
  re("sentence_boundary", /\p{Ll}[.!?]["'»”]? \p{Lu}/u),
  // A comma followed by a lowercase word: clause structure.
  re("comma_word", /\p{L}, \p{Ll}/u),
  // 80 characters without a line break: prose paragraphs are long lines, code lines are short
  // (PEP 8 stops at 79: about 2 % of the standard library's 128-character windows hold such a
  // run, 80–90 % of novel and manual-page windows do; issue #18). Shorter windows never show it.
  re("long_line", /[^\n]{80}/),
];

/** Closed-class words per language: frequent in any text of the language, whatever its topic. */
export const FUNCTION_WORDS: Readonly<Record<string, readonly string[]>> = {
  en: [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "it",
    "is",
    "was",
    "for",
    "with",
    "as",
    "his",
    "on",
    "be",
    "at",
    "by",
    "you",
    "he",
    "this",
    "not",
    "but",
    "from",
    "or",
    "have",
    "an",
    "they",
    "which",
    "are",
    "were",
    "will",
    "can",
    "your",
    "their",
    "there",
    "been",
    "would",
    "has",
    "when",
  ],
  fr: [
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "un",
    "une",
    "et",
    "est",
    "en",
    "que",
    "qui",
    "dans",
    "pour",
    "pas",
    "sur",
    "au",
    "aux",
    "il",
    "elle",
    "ne",
    "se",
    "ce",
    "avec",
    "plus",
    "par",
    "sont",
    "son",
    "sa",
    "nous",
    "vous",
    "je",
    "mais",
    "ou",
    "cette",
    "leur",
    "été",
    "était",
    "à",
  ],
  de: [
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "zu",
    "den",
    "von",
    "mit",
    "sich",
    "des",
    "auf",
    "für",
    "im",
    "dem",
    "ein",
    "eine",
    "er",
    "es",
    "sie",
    "ich",
    "auch",
    "als",
    "wie",
    "dass",
    "wird",
    "aus",
    "bei",
    "werden",
    "sind",
    "wenn",
    "nur",
    "noch",
    "oder",
    "einen",
    "einer",
    "kann",
    "hat",
    "war",
  ],
};

/** Bins for ratios: a value v falls into the first bin whose upper edge is ≥ v. */
const RATIO_BINS = [0, 0.05, 0.1, 0.2, 0.35, 1] as const;

const LANGS = Object.keys(FUNCTION_WORDS);
const WORD_INDEX = new Map<string, number>();
for (const lang of LANGS) {
  for (const w of FUNCTION_WORDS[lang]!) {
    if (!WORD_INDEX.has(w)) WORD_INDEX.set(w, WORD_INDEX.size);
  }
}
/** Function word → its index in `WORD_INDEX` and the indices (into `LANGS`) of its languages. */
const WORD_INFO = new Map<string, { index: number; langs: number[] }>();
LANGS.forEach((lang, l) => {
  for (const w of FUNCTION_WORDS[lang]!) {
    const info = WORD_INFO.get(w) ?? { index: WORD_INDEX.get(w)!, langs: [] };
    info.langs.push(l);
    WORD_INFO.set(w, info);
  }
});

/** Names of every signal in index order, as stored in the model file. */
export const SIGNAL_NAMES: readonly string[] = [
  ...CODE_SIGNALS.map((s) => s.name),
  ...PROSE_SIGNALS.map((s) => s.name),
  ...["symbols", "uppercase", "digits"].flatMap((k) => RATIO_BINS.map((_, b) => `${k}_bin${b}`)),
  ...LANGS.flatMap((l) => RATIO_BINS.map((_, b) => `function_words_${l}_bin${b}`)),
  ...[...WORD_INDEX.keys()].map((w) => `word:${w}`),
];

function bin(ratio: number): number {
  let b = 0;
  while (b < RATIO_BINS.length - 1 && ratio > RATIO_BINS[b]!) b++;
  return b;
}

const SYMBOL_CODES = new Uint8Array(128);
for (const ch of "()[]{}=<>+*/%&|^~@#\\_`$") SYMBOL_CODES[ch.charCodeAt(0)] = 1;
const WORD = /\p{L}+/gu;

/**
 * The indices (into {@linkcode SIGNAL_NAMES}) of the signals that fire on `text`, ascending.
 *
 * Ratios: `symbols` = code symbols `()[]{}=<>+*‍/%&|^~@#\_` and backtick/`$` per non-space character;
 * `uppercase` = uppercase per letter; `digits` = digits per non-space character;
 * `function_words_<lang>` = share of the words that are function words of that language.
 *
 * @param text Raw text (not normalised).
 * @returns Ascending signal indices.
 *
 * @example
 * ```ts
 * import { SIGNAL_NAMES, signalIndices } from "./text_signals.ts";
 * const names = signalIndices("def f(x):\n    return x == 1\n").map((i) => SIGNAL_NAMES[i]);
 * console.assert(names.includes("indented_line") && names.includes("call"));
 * console.assert(!names.includes("sentence_boundary"));
 * ```
 */
export function signalIndices(text: string): number[] {
  const out: number[] = [];
  let k = 0;
  CODE_SIGNALS.forEach((s, i) => s.test(text) && out.push(k + i));
  k += CODE_SIGNALS.length;
  PROSE_SIGNALS.forEach((s, i) => s.test(text) && out.push(k + i));
  k += PROSE_SIGNALS.length;
  let nonSpace = 0, letters = 0, upper = 0, digits = 0, symbols = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) {
      if (code <= 32) continue;
      nonSpace++;
      if (code >= 97 && code <= 122) letters++;
      else if (code >= 65 && code <= 90) letters++, upper++;
      else if (code >= 48 && code <= 57) digits++;
      else if (SYMBOL_CODES[code]) symbols++;
    } else {
      const ch = text[i]!;
      if (/\s/.test(ch)) continue;
      nonSpace++;
      if (ch !== ch.toLowerCase()) letters++, upper++;
      else if (ch !== ch.toUpperCase()) letters++;
    }
  }
  for (
    const ratio of [symbols / (nonSpace || 1), upper / (letters || 1), digits / (nonSpace || 1)]
  ) {
    out.push(k + bin(ratio));
    k += RATIO_BINS.length;
  }
  const words = text.toLowerCase().match(WORD) ?? [];
  const perLang = new Array<number>(LANGS.length).fill(0);
  const present: number[] = [];
  for (const w of words) {
    const info = WORD_INFO.get(w);
    if (!info) continue;
    if (!present.includes(info.index)) present.push(info.index);
    for (const l of info.langs) perLang[l]!++;
  }
  for (const count of perLang) {
    out.push(k + bin(count / (words.length || 1)));
    k += RATIO_BINS.length;
  }
  for (const i of present.sort((a, b) => a - b)) out.push(k + i);
  return out;
}
