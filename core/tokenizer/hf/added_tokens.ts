/**
 * `tokenizer.json` added tokens (`tokenizers`' `AddedVocabulary`): found in the text before
 * anything else, leftmost-longest, and never split. Tokens with `normalized: false` (special
 * tokens, as a rule) are matched verbatim in the raw text; the normalizer then runs on the text
 * between them, and tokens with `normalized: true` are matched in its output. `lstrip`/`rstrip`
 * take the white space on that side into the token; `single_word` matches only between non-word
 * characters.
 *
 * @module
 */
import { booleanAt, type Fail, objectAt, stringAt } from "./_fields.ts";
import type { Normalizer } from "./normalizers.ts";
import { escapeRegExp } from "./regex.ts";

/** One entry of `added_tokens`. */
export interface AddedToken {
  /** Its id. */
  id: number;
  /** The text it stands for. */
  content: string;
  /** A special token (`<|endoftext|>`, `</s>`, …) rather than an added word. */
  special: boolean;
  /** Matched only with no word character right before or after it. */
  singleWord: boolean;
  /** Takes the white space before it. */
  lstrip: boolean;
  /** Takes the white space after it. */
  rstrip: boolean;
  /** Matched in the normalized text (else in the raw text, before normalization). */
  normalized: boolean;
}

/** A stretch of the input: an added token (`id` ≥ 0) or text for the model (`id` -1). */
export interface Segment {
  /** The text (normalized, outside added tokens). */
  text: string;
  /** The added token's id, or -1 for text. */
  id: number;
  /** Whether it begins where the input begins. */
  first: boolean;
}

/**
 * Reads `added_tokens`. Ids follow `tokenizers`' rule (a token in the model's vocab keeps that
 * id, the others are numbered from the vocab's size in order); a file whose ids disagree is
 * refused rather than encoded differently from the ids it states.
 *
 * @param json The `added_tokens` part.
 * @param vocabId The model's id of a token string.
 * @param vocabCount Number of entries in the model's vocab.
 * @param fail Throws the load error.
 * @returns The tokens.
 *
 * @example
 * ```ts
 * import { parseAddedTokens } from "./added_tokens.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const [eot] = parseAddedTokens([{ id: 3, content: "<|endoftext|>", special: true }], () => undefined, 3, fail);
 * console.assert(eot!.id === 3 && eot!.special && !eot!.normalized);
 * ```
 */
export function parseAddedTokens(
  json: unknown,
  vocabId: (token: string) => number | undefined,
  vocabCount: number,
  fail: Fail,
): AddedToken[] {
  if (json === null || json === undefined) return [];
  if (!Array.isArray(json)) return fail("added_tokens", "is not an array");
  const seen = new Set<string>(), tokens: AddedToken[] = [];
  let next = vocabCount;
  json.forEach((entry: unknown, i) => {
    const path = `added_tokens[${i}]`;
    const token = objectAt(entry, path, fail);
    const content = stringAt(token, "content", path, fail);
    if (content === "") return; // `tokenizers` ignores an empty token
    if (seen.has(content)) {
      fail(`${path}.content`, `${JSON.stringify(content)} repeats an earlier one`);
    }
    seen.add(content);
    const id = vocabId(content) ?? next++;
    if (token.id !== id) {
      fail(
        `${path}.id`,
        `is ${JSON.stringify(token.id)}, but Hugging Face tokenizers gives ${
          JSON.stringify(content)
        } id ${id}`,
      );
    }
    const special = booleanAt(token, "special", path, fail, false);
    tokens.push({
      id,
      content,
      special,
      singleWord: booleanAt(token, "single_word", path, fail, false),
      lstrip: booleanAt(token, "lstrip", path, fail, false),
      rstrip: booleanAt(token, "rstrip", path, fail, false),
      normalized: booleanAt(token, "normalized", path, fail, !special),
    });
  });
  return tokens;
}

const SPACE = /\p{White_Space}/u;
/** Unicode word characters as the `regex` crate's `\w` sees them. */
const WORD = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;

/** The code point that ends at `i` (exclusive), as a string. */
function charBefore(text: string, i: number): string {
  const low = text.charCodeAt(i - 1);
  return i >= 2 && low >= 0xdc00 && low <= 0xdfff ? text.slice(i - 2, i) : text.slice(i - 1, i);
}

/** The code point that starts at `i`, as a string. */
function charAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i)!);
}

/** The set of added tokens, matched in text. */
export class AddedVocabulary {
  /** The added tokens, in file order. */
  readonly tokens: readonly AddedToken[];
  /** Contents of the non-normalized tokens, longest first (for leftmost-longest matching). */
  #raw: RegExp | null;
  /** Normalized contents of the normalized tokens, longest first. */
  #normalized: RegExp | null;
  /** "r" or "n" (raw or normalized) + the text matched → the token. */
  #byText = new Map<string, AddedToken>();
  #decoded = new Map<number, string>();
  #normalizer: Normalizer | null;

  /**
   * Prepares the matching of a set of added tokens.
   *
   * @param tokens The added tokens.
   * @param normalizer The tokenizer's normalizer (also applied to normalized tokens' contents).
   */
  constructor(tokens: readonly AddedToken[], normalizer: Normalizer | null) {
    this.tokens = tokens;
    this.#normalizer = normalizer;
    const raw: string[] = [], normalized: string[] = [];
    for (const token of tokens) {
      const text = token.normalized && normalizer ? normalizer(token.content) : token.content;
      (token.normalized ? normalized : raw).push(text);
      this.#byText.set(`${token.normalized ? "n" : "r"}${text}`, token);
      this.#decoded.set(token.id, text);
    }
    this.#raw = AddedVocabulary.#alternation(raw);
    this.#normalized = AddedVocabulary.#alternation(normalized);
  }

  /**
   * The token string `tokenizers` decodes an added token's id to (a normalized token's normalized
   * content), or undefined for another id.
   */
  decodedContent(id: number): string | undefined {
    return this.#decoded.get(id);
  }

  static #alternation(contents: string[]): RegExp | null {
    if (contents.length === 0) return null;
    const sorted = contents.toSorted((a, b) => b.length - a.length);
    return new RegExp(sorted.map(escapeRegExp).join("|"), "gu");
  }

  /**
   * Cuts text into added tokens and normalized text between them.
   *
   * @param text The input.
   * @returns Its segments in order (empty ones left out).
   *
   * @example
   * ```ts
   * import { AddedVocabulary } from "./added_tokens.ts";
   * const eot = { id: 9, content: "<|endoftext|>", special: true, singleWord: false, lstrip: false, rstrip: false, normalized: false };
   * const added = new AddedVocabulary([eot], (t) => t.toUpperCase());
   * const segments = added.split("a<|endoftext|>b");
   * console.assert(segments.map((s) => `${s.text}:${s.id}`).join(" ") === "A:-1 <|endoftext|>:9 B:-1");
   * ```
   */
  split(text: string): Segment[] {
    const out: Segment[] = [];
    for (const segment of this.#find(text, true, this.#raw, "r")) {
      if (segment.id >= 0) out.push(segment);
      else {
        const normalized = this.#normalizer ? this.#normalizer(segment.text) : segment.text;
        out.push(...this.#find(normalized, segment.first, this.#normalized, "n"));
      }
    }
    return out.filter((segment) => segment.text !== "");
  }

  /** `AddedVocabulary::find_matches` then the split: the segments of `text`. */
  #find(text: string, first: boolean, regex: RegExp | null, kind: string): Segment[] {
    if (regex === null || text === "") return [{ text, id: -1, first }];
    const out: Segment[] = [];
    let done = 0;
    for (const match of text.matchAll(regex)) {
      const token = this.#byText.get(kind + match[0])!;
      let start = match.index, stop = start + match[0].length;
      if (token.singleWord) {
        const wordBefore = start > 0 && WORD.test(charBefore(text, start));
        const wordAfter = stop < text.length && WORD.test(charAt(text, stop));
        if (wordBefore || wordAfter) continue;
      }
      if (token.lstrip) {
        while (start > done && SPACE.test(charBefore(text, start))) {
          start -= charBefore(text, start).length;
        }
      }
      if (token.rstrip) {
        while (stop < text.length && SPACE.test(charAt(text, stop))) {
          stop += charAt(text, stop).length;
        }
      }
      if (done < start) {
        out.push({ text: text.slice(done, start), id: -1, first: first && done === 0 });
      }
      out.push({ text: text.slice(start, stop), id: token.id, first: false });
      done = stop;
    }
    if (done < text.length) {
      out.push({ text: text.slice(done), id: -1, first: first && done === 0 });
    }
    return out;
  }
}
