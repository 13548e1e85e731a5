/**
 * `tokenizer.json` normalizers: Unicode normal forms (`String.prototype.normalize`), `Prepend`
 * and `Replace` (Llama 2's layout: prepend "▁", replace " " by "▁"), and `Sequence` of them.
 *
 * @module
 */
import { arrayAt, type Fail, objectAt, stringAt, typeAt, unsupported } from "./_fields.ts";
import { findMatches, patternRegExp } from "./regex.ts";

/** A normalizer: text in, normalized text out. */
export type Normalizer = (text: string) => string;

const SUPPORTED = ["NFC", "NFD", "NFKC", "NFKD", "Prepend", "Replace", "Sequence"];

/**
 * Replaces every match of `regex` in `text` by `content` (`NormalizedString::replace`; `content` is
 * literal, `$` included).
 *
 * @example
 * ```ts
 * import { replaceMatches } from "./normalizers.ts";
 * console.assert(replaceMatches("a b  c", / /gu, "▁") === "a▁b▁▁c");
 * ```
 */
export function replaceMatches(text: string, regex: RegExp, content: string): string {
  let out = "";
  for (const [start, end, isMatch] of findMatches(text, regex)) {
    out += isMatch ? content : text.slice(start, end);
  }
  return out;
}

/**
 * Builds the normalizer of a `tokenizer.json`.
 *
 * @param json The `normalizer` part (null: none).
 * @param path Its JSON path, for errors.
 * @param fail Throws the load error.
 * @returns The normalizer, or null when there is none.
 *
 * @example
 * ```ts
 * import { buildNormalizer } from "./normalizers.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const llama2 = buildNormalizer({
 *   type: "Sequence",
 *   normalizers: [
 *     { type: "Prepend", prepend: "▁" },
 *     { type: "Replace", pattern: { String: " " }, content: "▁" },
 *   ],
 * }, "normalizer", fail)!;
 * console.assert(llama2("Hello world") === "▁Hello▁world" && llama2("") === "");
 * console.assert(buildNormalizer({ type: "NFKC" }, "normalizer", fail)!("ﬁ") === "fi");
 * ```
 */
export function buildNormalizer(json: unknown, path: string, fail: Fail): Normalizer | null {
  if (json === null || json === undefined) return null;
  const part = objectAt(json, path, fail);
  const type = typeAt(part, path, fail);
  switch (type) {
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      return (text) => text.normalize(type);
    case "Prepend": {
      const prefix = stringAt(part, "prepend", path, fail);
      // `tokenizers` prepends nothing to an empty string.
      return (text) => text === "" ? text : prefix + text;
    }
    case "Replace": {
      const regex = patternRegExp(part.pattern, `${path}.pattern`, fail);
      const content = stringAt(part, "content", path, fail);
      return (text) => replaceMatches(text, regex, content);
    }
    case "Sequence": {
      const steps = arrayAt(part, "normalizers", path, fail).map((step, i) => {
        const at = `${path}.normalizers[${i}]`;
        return buildNormalizer(objectAt(step, at, fail), at, fail)!;
      });
      return (text) => steps.reduce((normalized, step) => step(normalized), text);
    }
    default:
      return unsupported(path, type, SUPPORTED, fail);
  }
}
