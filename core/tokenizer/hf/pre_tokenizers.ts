/**
 * `tokenizer.json` pre-tokenizers: they cut normalized text into the pieces the BPE model sees.
 * `ByteLevel` (GPT-2: optional prefix space, GPT-2's split regex, then every byte written as its
 * printable character), `Split` (any pattern, the five delimiter behaviours, `invert`),
 * `Metaspace` (SentencePiece: spaces become "▁", which is prepended and split on) and `Sequence`.
 *
 * @module
 */
import { BYTE_TO_CHAR } from "../bytes.ts";
import {
  arrayAt,
  booleanAt,
  type Fail,
  type Json,
  objectAt,
  stringAt,
  typeAt,
  unsupported,
} from "./_fields.ts";
import { escapeRegExp, findMatches, patternRegExp, type Span } from "./regex.ts";

/** A piece of text on its way to the BPE model. */
export interface Piece {
  /** The text. */
  text: string;
  /** Whether the piece begins where the whole input begins (Metaspace's prepend_scheme "first"). */
  first: boolean;
}

/** A pre-tokenizer: pieces in, smaller (or transformed) pieces out. */
export type PreTokenizer = (pieces: Piece[]) => Piece[];

const SUPPORTED = ["ByteLevel", "Split", "Metaspace", "Sequence"];

/** GPT-2's split regex, as `ByteLevel` runs it with `use_regex` (Oniguruma, hence `\s` spelt out). */
const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"];
/** What `Split` does with the matches (`SplitDelimiterBehavior`). */
export type SplitBehavior =
  | "Removed"
  | "Isolated"
  | "MergedWithPrevious"
  | "MergedWithNext"
  | "Contiguous";

/**
 * Groups match spans by a delimiter behaviour (`NormalizedString::split`): `Removed` drops the
 * matches, `Isolated` keeps them as pieces, `MergedWithPrevious`/`MergedWithNext` glue each to its
 * neighbour, `Contiguous` joins runs of matches. The result's `true` spans are removed.
 *
 * @example
 * ```ts
 * import { groupSpans } from "./pre_tokenizers.ts";
 * import { findMatches } from "./regex.ts";
 * const spans = findMatches("the-final--countdown", /-/gu);
 * const pieces = (b: Parameters<typeof groupSpans>[1]) =>
 *   groupSpans(spans, b).filter(([, , drop]) => !drop).map(([s, e]) => "the-final--countdown".slice(s, e));
 * console.assert(pieces("MergedWithPrevious").join("|") === "the-|final-|-|countdown");
 * console.assert(pieces("MergedWithNext").join("|") === "the|-final|-|-countdown");
 * console.assert(pieces("Contiguous").join("|") === "the|-|final|--|countdown");
 * ```
 */
export function groupSpans(spans: Span[], behavior: SplitBehavior): Span[] {
  if (behavior === "Removed") return spans;
  if (behavior === "Isolated") return spans.map(([s, e]) => [s, e, false]);
  const out: Span[] = [];
  let previousMatch = false;
  const ordered = behavior === "MergedWithNext" ? spans.toReversed() : spans;
  for (const [start, end, isMatch] of ordered) {
    const last = out.at(-1);
    const join = behavior === "Contiguous" ? isMatch === previousMatch : isMatch && !previousMatch;
    if (join && last) {
      if (behavior === "MergedWithNext") last[0] = start;
      else last[1] = end;
    } else out.push([start, end, false]);
    previousMatch = isMatch;
  }
  return behavior === "MergedWithNext" ? out.reverse() : out;
}

/** The non-empty pieces of `piece` kept by `groups`; only one starting at 0 keeps `first`. */
function slices(piece: Piece, groups: Span[]): Piece[] {
  const out: Piece[] = [];
  for (const [start, end, drop] of groups) {
    if (drop || start === end) continue;
    out.push({ text: piece.text.slice(start, end), first: piece.first && start === 0 });
  }
  return out;
}

/** A string's UTF-8 bytes written as byte-level characters ("Ġ" for a space, …). */
function byteLevelChars(text: string, utf8: TextEncoder): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) out += BYTE_TO_CHAR[code];
    else {
      // subtle: a character outside ASCII goes through the encoder (surrogate pairs included)
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 0x80) j++;
      for (const b of utf8.encode(text.slice(i, j))) out += BYTE_TO_CHAR[b];
      i = j - 1;
    }
  }
  return out;
}

function byteLevel(part: Json, path: string, fail: Fail): PreTokenizer {
  const prefixSpace = booleanAt(part, "add_prefix_space", path, fail);
  const useRegex = booleanAt(part, "use_regex", path, fail, true);
  const utf8 = new TextEncoder();
  return (pieces) =>
    pieces.flatMap((piece) => {
      const text = prefixSpace && !piece.text.startsWith(" ") ? " " + piece.text : piece.text;
      const spaced = { text, first: piece.first };
      const parts = useRegex
        ? slices(spaced, groupSpans(findMatches(text, GPT2_SPLIT), "Isolated"))
        : [spaced];
      return parts.map((p) => ({ text: byteLevelChars(p.text, utf8), first: p.first }));
    });
}

function split(part: Json, path: string, fail: Fail): PreTokenizer {
  const regex = patternRegExp(part.pattern, `${path}.pattern`, fail);
  const behavior = stringAt(part, "behavior", path, fail);
  if (!BEHAVIORS.includes(behavior)) {
    fail(`${path}.behavior`, `${JSON.stringify(behavior)} is not one of ${BEHAVIORS.join(", ")}`);
  }
  const invert = booleanAt(part, "invert", path, fail);
  return (pieces) =>
    pieces.flatMap((piece) => {
      const spans = findMatches(piece.text, regex);
      const matches = invert ? spans.map(([s, e, m]): Span => [s, e, !m]) : spans;
      return slices(piece, groupSpans(matches, behavior as SplitBehavior));
    });
}

/** Metaspace's settings, shared by the pre-tokenizer and the decoder. */
export interface MetaspaceOptions {
  /** The character spaces become ("▁"). */
  replacement: string;
  /** Where "▁" is prepended: every piece, only the one that starts the input, or never. */
  prependScheme: "always" | "first" | "never";
  /** Whether pieces are split before each "▁". */
  split: boolean;
}

/**
 * Reads Metaspace's settings (the legacy `add_prefix_space: false` means `prepend_scheme` never).
 *
 * @example
 * ```ts
 * import { metaspaceOptions } from "./pre_tokenizers.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const o = metaspaceOptions({ type: "Metaspace", replacement: "▁" }, "pre_tokenizer", fail);
 * console.assert(o.prependScheme === "always" && o.split);
 * ```
 */
export function metaspaceOptions(part: Json, path: string, fail: Fail): MetaspaceOptions {
  const replacement = stringAt(part, "replacement", path, fail);
  if ([...replacement].length !== 1) {
    fail(`${path}.replacement`, `is ${JSON.stringify(replacement)}, not one character`);
  }
  const prependScheme = stringAt(part, "prepend_scheme", path, fail, "always");
  if (prependScheme !== "always" && prependScheme !== "first" && prependScheme !== "never") {
    return fail(
      `${path}.prepend_scheme`,
      `is ${JSON.stringify(prependScheme)}, not "always", "first" or "never"`,
    );
  }
  if (part.add_prefix_space === false && prependScheme !== "never") {
    fail(`${path}.add_prefix_space`, `is false but prepend_scheme is "${prependScheme}"`);
  }
  return { replacement, prependScheme, split: booleanAt(part, "split", path, fail, true) };
}

function metaspace(part: Json, path: string, fail: Fail): PreTokenizer {
  const { replacement, prependScheme, split } = metaspaceOptions(part, path, fail);
  const marks = new RegExp(escapeRegExp(replacement), "gu");
  return (pieces) =>
    pieces.flatMap((piece) => {
      let text = piece.text.replaceAll(" ", replacement);
      const prepend = prependScheme === "always" || (prependScheme === "first" && piece.first);
      if (prepend && !text.startsWith(replacement)) text = replacement + text;
      const spaced = { text, first: piece.first };
      if (!split) return [spaced];
      return slices(spaced, groupSpans(findMatches(text, marks), "MergedWithNext"));
    });
}

/**
 * Builds the pre-tokenizer of a `tokenizer.json`.
 *
 * @param json The `pre_tokenizer` part (null: none).
 * @param path Its JSON path, for errors.
 * @param fail Throws the load error.
 * @returns The pre-tokenizer, or null when there is none.
 *
 * @example
 * ```ts
 * import { buildPreTokenizer } from "./pre_tokenizers.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const gpt2 = buildPreTokenizer({ type: "ByteLevel", add_prefix_space: false }, "pre_tokenizer", fail)!;
 * console.assert(gpt2([{ text: "Hi there", first: true }]).map((p) => p.text).join("|") === "Hi|Ġthere");
 * const mistral = buildPreTokenizer(
 *   { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true }, "pre_tokenizer", fail,
 * )!;
 * console.assert(mistral([{ text: "Hi there", first: true }]).map((p) => p.text).join("|") === "▁Hi|▁there");
 * ```
 */
export function buildPreTokenizer(json: unknown, path: string, fail: Fail): PreTokenizer | null {
  if (json === null || json === undefined) return null;
  const part = objectAt(json, path, fail);
  const type = typeAt(part, path, fail);
  switch (type) {
    case "ByteLevel":
      return byteLevel(part, path, fail);
    case "Split":
      return split(part, path, fail);
    case "Metaspace":
      return metaspace(part, path, fail);
    case "Sequence": {
      const steps = arrayAt(part, "pretokenizers", path, fail).map((step, i) => {
        const at = `${path}.pretokenizers[${i}]`;
        return buildPreTokenizer(objectAt(step, at, fail), at, fail)!;
      });
      return (pieces) => steps.reduce((out, step) => step(out), pieces);
    }
    default:
      return unsupported(path, type, SUPPORTED, fail);
  }
}
