/**
 * Hugging Face patterns (`{"String": …}` or `{"Regex": …}`) as JavaScript regular expressions, and
 * the match list `tokenizers` splits and replaces by. `tokenizers` runs regexes with Oniguruma
 * (Ruby syntax); the `u`-flag JavaScript engine reads most of them the same once a few escapes are
 * spelt out: `\s` is `\p{White_Space}` there (U+0085 yes, U+FEFF no), `\d` and `\w` are Unicode,
 * `\b` uses Unicode word characters, `.` excludes only "\n", and `^`/`$` are line anchors. What
 * JavaScript cannot run (possessive quantifiers, atomic groups, `\A`, `\h`, nested classes, …)
 * fails to compile and is refused with the engine's reason.
 *
 * @module
 */
import { type Fail, notA, objectAt } from "./_fields.ts";

/** Unicode word characters as Oniguruma's `\w` sees them (letters, marks, digits, connectors). */
const WORD = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
const BOUNDARY = `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
const NOT_BOUNDARY = `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
/** Characters that JavaScript's `u` mode allows (and needs) escaped outside a class. */
const SYNTAX = new Set("^$\\.*+?()[]{}|/");

/** The JavaScript equivalent of each Oniguruma escape that means something else there. */
function escapeFor(e: string, inClass: boolean): string | null {
  switch (e) {
    case "s":
      return "\\p{White_Space}";
    case "S":
      return "\\P{White_Space}";
    case "d":
      return "\\p{Nd}";
    case "D":
      return "\\P{Nd}";
    case "w":
      return inClass ? WORD : `[${WORD}]`;
    case "W":
      if (inClass) throw new SyntaxError("\\W inside a character class");
      return `[^${WORD}]`;
    case "b":
      return inClass ? "\\b" : BOUNDARY;
    case "B":
      if (inClass) throw new SyntaxError("\\B inside a character class");
      return NOT_BOUNDARY;
    case "h":
      return inClass ? "0-9a-fA-F" : "[0-9a-fA-F]";
    case "e":
      return "\\x1B";
    case "a":
      return "\\x07";
    default:
      return null;
  }
}

/**
 * Rewrites an Oniguruma (Ruby syntax) pattern for JavaScript's `u` mode.
 *
 * @param pattern The `Regex` of a `tokenizer.json` pattern.
 * @returns The JavaScript source.
 * @throws {SyntaxError} For what has no JavaScript reading (a nested character class, `\W` in a class).
 *
 * @example
 * ```ts
 * import { onigurumaToJs } from "./regex.ts";
 * console.assert(onigurumaToJs("\\s+(?!\\S)") === "\\p{White_Space}+(?!\\P{White_Space})");
 * console.assert(onigurumaToJs("[^\\s\\p{L}]'") === "[^\\p{White_Space}\\p{L}]'");
 * ```
 */
export function onigurumaToJs(pattern: string): string {
  let out = "", inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const e = pattern[++i];
      if (e === undefined) throw new SyntaxError("the pattern ends with a backslash");
      const spelt = escapeFor(e, inClass);
      if (spelt !== null) out += spelt;
      else if (e === "x" && pattern[i + 1] === "{") out += "\\u"; // \x{263A} → \u{263A}
      else if (/[A-Za-z0-9]/.test(e) || SYNTAX.has(e) || (inClass && e === "-")) out += "\\" + e;
      else out += e; // an escaped character without meaning is itself (u mode refuses "\'")
    } else if (inClass) {
      if (c === "[") throw new SyntaxError("nested character classes are not supported");
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
      if (pattern[i + 1] === "^") out += pattern[++i];
      // Oniguruma reads "[]…]" as a class holding "]"; JavaScript as an empty class.
      if (pattern[i + 1] === "]") out += "\\" + pattern[++i];
    } else if (c === ".") out += "[^\\n]";
    else if (c === "^") out += "(?<![^\\n])";
    else if (c === "$") out += "(?![^\\n])";
    else out += c;
  }
  return out;
}

/**
 * `text` as a pattern that matches it literally (in `u` mode).
 *
 * @example
 * ```ts
 * import { escapeRegExp } from "./regex.ts";
 * console.assert(new RegExp(escapeRegExp("<|sep|>"), "u").test("a<|sep|>b"));
 * ```
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/**
 * The global regular expression of a `tokenizer.json` pattern.
 *
 * @param pattern `{"String": text}` (matched literally) or `{"Regex": source}` (Oniguruma).
 * @param path Its JSON path, for errors.
 * @param fail Throws the load error.
 * @returns A `gu` RegExp.
 *
 * @example
 * ```ts
 * import { patternRegExp } from "./regex.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * console.assert("a.b.c".replace(patternRegExp({ String: "." }, "p", fail), "-") === "a-b-c");
 * try {
 *   patternRegExp({ Regex: "\\p{L}++" }, "pre_tokenizer.pattern", fail);
 * } catch (error) {
 *   console.assert(String(error).includes("pre_tokenizer.pattern.Regex"));
 * }
 * ```
 */
export function patternRegExp(pattern: unknown, path: string, fail: Fail): RegExp {
  const json = objectAt(pattern, path, fail);
  if (typeof json.String === "string") {
    return new RegExp(escapeRegExp(json.String), "gu");
  }
  if (typeof json.Regex !== "string") return fail(path, notA(pattern, "a String or a Regex"));
  try {
    return new RegExp(onigurumaToJs(json.Regex), "gu");
  } catch (error) {
    return fail(
      `${path}.Regex`,
      `${JSON.stringify(json.Regex)} cannot run as a JavaScript regular expression (${
        (error as Error).message
      })`,
    );
  }
}

/** A stretch of text: `[start, end, isMatch]` (UTF-16 offsets). */
export type Span = [start: number, end: number, isMatch: boolean];

/**
 * The matches of `regex` in `text` and the stretches between them, covering the text in order —
 * `tokenizers`' `find_matches`: an empty match right where the previous match ended is skipped
 * (Oniguruma's `find_iter`), and the empty text is one empty non-match.
 *
 * @param text Any string.
 * @param regex A global RegExp.
 * @returns The spans.
 *
 * @example
 * ```ts
 * import { findMatches } from "./regex.ts";
 * console.assert(JSON.stringify(findMatches("a-b", /-/gu)) === "[[0,1,false],[1,2,true],[2,3,false]]");
 * ```
 */
export function findMatches(text: string, regex: RegExp): Span[] {
  if (text === "") return [[0, 0, false]];
  const spans: Span[] = [];
  let previous = 0, lastEnd = -1;
  for (const match of text.matchAll(regex)) {
    const start = match.index, end = start + match[0].length;
    if (start === end && end === lastEnd) continue;
    if (previous !== start) spans.push([previous, start, false]);
    spans.push([start, end, true]);
    previous = lastEnd = end;
  }
  if (previous !== text.length) spans.push([previous, text.length, false]);
  return spans;
}
