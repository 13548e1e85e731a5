/**
 * Technical prose: windows of the prose classes with identifiers, constants, dotted names, paths,
 * options and URLs taken from the code class inserted between their words.
 *
 * Why: trained on novels and the Python standard library, a router sees an underscore, a call
 * such as `read(2)` or a path only ever in code, so each such token becomes strong evidence for
 * code and one `O_NONBLOCK` outweighs a sentence of function words: a third of the English
 * manual-page windows went to `py` (issue #18). Prose windows that quote code tokens, in every
 * prose class, teach the model that such tokens are neutral inside sentences, so that the decision
 * rests on what still differs: function words and sentence shape against layout and syntax. Some
 * of the windows also lose most of their function words, as headings, table entries and option
 * lists do, so that a language is recognised by its words when its grammar is absent. The tokens
 * come from the code class's training texts only.
 *
 * @module
 */

import { FUNCTION_WORDS } from "./text_signals.ts";
import { seededRandom } from "./windows.ts";

/** Code tokens by shape, each list without duplicates. */
export interface TechnicalTokens {
  /** snake_case, _private, dunder and camelCase identifiers: `get_value`, `__init__`, `readLine`. */
  identifiers: string[];
  /** Upper-case names with an underscore: `O_NONBLOCK`, `_SC_CLK_TCK`. */
  constants: string[];
  /** Dotted names: `os.path.join`, `self.buffer`. */
  dotted: string[];
  /** Absolute or home-relative paths from string literals: `/usr/lib/python3`, `~/.config`. */
  paths: string[];
  /** Command-line options from string literals: `--verbose`, `-n`. */
  options: string[];
  /** http(s) URLs. */
  urls: string[];
}

/** How technical-prose windows are made from prose windows. */
export interface TechnicalProseStyle {
  /** Lowest probability of a token after a word; each window draws its rate log-uniformly. */
  minRate: number;
  /** Highest probability of a token after a word. */
  maxRate: number;
  /** Fraction of the windows that lose each function word with probability 0.8. */
  dropFunctionWords: number;
}

const PATTERNS: Readonly<Record<keyof TechnicalTokens, RegExp>> = {
  identifiers: /\b(?:_*[a-z][a-z0-9]*(?:_+[a-z0-9]+)+_*|__[a-z]+__|[a-z]+(?:[A-Z][a-z0-9]+)+)\b/g,
  constants: /\b_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g,
  dotted: /\b[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b/g,
  paths: /(?<=['"])(?:~|\/[a-z])[\w.+-]*(?:\/[\w.+-]+)+(?=['"])/g,
  options: /(?<=['"])--?[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?=['"])/g,
  urls: /https?:\/\/[\w.-]+(?:\/[\w./%~+-]*)?/g,
};

const KINDS = Object.keys(PATTERNS) as (keyof TechnicalTokens)[];

const ALL_FUNCTION_WORDS = new Set(Object.values(FUNCTION_WORDS).flat());

/**
 * Collects the code tokens of `sources`: at most `limit` distinct ones per shape, spread evenly
 * over the order in which they first occur (so that they come from the whole class, not its
 * first files); tokens over 40 characters are left out.
 *
 * @param sources Code texts (the code class's training documents).
 * @param limit Most tokens kept per shape.
 * @returns The tokens by shape.
 *
 * @example
 * ```ts
 * import { technicalTokens } from "./technical_prose.ts";
 * const t = technicalTokens(['fd = os.open("/dev/null", os.O_RDONLY)  # see get_value()']);
 * console.assert(t.constants[0] === "O_RDONLY" && t.paths[0] === "/dev/null");
 * console.assert(t.identifiers[0] === "get_value" && t.dotted[0] === "os.open");
 * ```
 */
export function technicalTokens(sources: readonly string[], limit = 4000): TechnicalTokens {
  const spread = (kind: keyof TechnicalTokens): string[] => {
    const seen = new Set<string>();
    for (const source of sources) {
      for (const m of source.matchAll(PATTERNS[kind])) if (m[0].length <= 40) seen.add(m[0]);
    }
    const all = [...seen];
    const step = Math.max(1, all.length / limit);
    return Array.from(
      { length: Math.min(limit, all.length) },
      (_, i) => all[Math.floor(i * step)]!,
    );
  };
  return {
    identifiers: spread("identifiers"),
    constants: spread("constants"),
    dotted: spread("dotted"),
    paths: spread("paths"),
    options: spread("options"),
    urls: spread("urls"),
  };
}

/** One token to insert: a shape drawn at random, names sometimes written as a call. */
function drawToken(tokens: TechnicalTokens, random: () => number): string | null {
  const kinds = KINDS.filter((k) => tokens[k].length > 0);
  if (kinds.length === 0) return null;
  const kind = kinds[Math.floor(random() * kinds.length)]!;
  const list = tokens[kind];
  const token = list[Math.floor(random() * list.length)]!;
  if (kind !== "identifiers" && kind !== "dotted") return token;
  // Documentation names a function `name()`, or `name(2)` with its manual section.
  const r = random();
  return r < 0.5 ? token : r < 0.75 ? `${token}()` : `${token}(${1 + Math.floor(random() * 8)})`;
}

/**
 * Inserts code tokens between the words of `text`: after each word that a single space separates
 * from the next, with probability `rate`. The words and the other whitespace are kept.
 *
 * @param text Prose.
 * @param tokens Tokens to draw from (see {@linkcode technicalTokens}).
 * @param rate Probability of a token after a word, in [0, 1].
 * @param random Uniform numbers in [0, 1) (see `seededRandom`).
 * @returns The text with the tokens.
 *
 * @example
 * ```ts
 * import { insertTechnicalTokens } from "./technical_prose.ts";
 * import { seededRandom } from "./windows.ts";
 * const tokens = { identifiers: [], constants: ["O_RDONLY"], dotted: [], paths: [], options: [], urls: [] };
 * const out = insertTechnicalTokens("open the file now", tokens, 1, seededRandom(1));
 * console.assert(out === "open O_RDONLY the O_RDONLY file O_RDONLY now");
 * ```
 */
export function insertTechnicalTokens(
  text: string,
  tokens: TechnicalTokens,
  rate: number,
  random: () => number,
): string {
  return text.replace(/(?<=\S) (?=\S)/g, (space) => {
    if (random() >= rate) return space;
    const token = drawToken(tokens, random);
    return token === null ? space : ` ${token} `;
  });
}

/**
 * Removes each function word of any language (see `FUNCTION_WORDS`), with the space after it,
 * with probability `probability`.
 *
 * @param text Prose.
 * @param probability Probability that a function word goes.
 * @param random Uniform numbers in [0, 1).
 * @returns The text without those words.
 *
 * @example
 * ```ts
 * import { dropFunctionWords } from "./technical_prose.ts";
 * import { seededRandom } from "./windows.ts";
 * console.assert(dropFunctionWords("Set the mode of the file", 1, seededRandom(1)) === "Set mode file");
 * ```
 */
export function dropFunctionWords(text: string, probability: number, random: () => number): string {
  return text.replace(
    /[\p{L}']+ ?/gu,
    (word) =>
      ALL_FUNCTION_WORDS.has(word.trimEnd().toLowerCase()) && random() < probability ? "" : word,
  );
}

/**
 * Technical-prose windows: each of `windows` with code tokens inserted (and, for a fraction of
 * them, most function words dropped), cut back to its original length so that the window lengths
 * stay those of the real windows.
 *
 * @param windows Prose windows.
 * @param tokens Tokens to insert.
 * @param style Insertion rates and the share of windows without function words.
 * @param seed PRNG seed.
 * @returns One window per input window.
 *
 * @example
 * ```ts
 * import { technicalProseWindows } from "./technical_prose.ts";
 * const tokens = { identifiers: ["get_value"], constants: [], dotted: [], paths: [], options: [], urls: [] };
 * const style = { minRate: 1, maxRate: 1, dropFunctionWords: 0 };
 * const [w] = technicalProseWindows(["set the value of the field"], tokens, style, 1);
 * console.assert(w!.length === 26 && w!.includes("get_value"));
 * ```
 */
export function technicalProseWindows(
  windows: readonly string[],
  tokens: TechnicalTokens,
  style: TechnicalProseStyle,
  seed: number,
): string[] {
  const random = seededRandom(seed);
  const { minRate, maxRate } = style;
  return windows.map((w) => {
    const rate = Math.exp(Math.log(minRate) + random() * Math.log(maxRate / minRate));
    const text = random() < style.dropFunctionWords ? dropFunctionWords(w, 0.8, random) : w;
    return insertTechnicalTokens(text, tokens, rate, random).slice(0, w.length);
  });
}
