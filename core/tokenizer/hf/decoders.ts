/**
 * `tokenizer.json` decoders: token strings back to text, step by step as `tokenizers` chains them
 * (`decode_chain`, then the pieces joined). `ByteLevel` (byte characters back to bytes, invalid
 * UTF-8 as U+FFFD), `Metaspace` ("▁" back to spaces, the first token's dropped), `Replace`,
 * `ByteFallback` (`<0x..>` runs back to their bytes, U+FFFD per byte when not UTF-8), `Fuse`,
 * `Strip` and `Sequence`. Without a decoder `tokenizers` joins the tokens with spaces.
 *
 * @module
 */
import { tokenStringToBytes } from "../bytes.ts";
import {
  arrayAt,
  type Fail,
  type Json,
  notA,
  objectAt,
  stringAt,
  typeAt,
  unsupported,
} from "./_fields.ts";
import { metaspaceOptions } from "./pre_tokenizers.ts";
import { replaceMatches } from "./normalizers.ts";
import { patternRegExp } from "./regex.ts";

/** Token strings back to text. */
export interface Decoder {
  /** The text of a token sequence, as `tokenizers` decodes it. */
  decode(tokens: string[]): string;
  /**
   * The bytes one token adds to a text it does not start, for streaming: what each step does to a
   * single token, without the start-of-text rules (the first "▁" dropped, `Strip`).
   */
  tokenBytes(token: string): Uint8Array;
}

/** One decoder step: `decode_chain`, and its effect on a lone token for streaming. */
interface Step {
  chain(tokens: string[]): string[];
  stream(token: string | Uint8Array): string | Uint8Array;
}

const SUPPORTED = [
  "ByteLevel",
  "Metaspace",
  "Replace",
  "ByteFallback",
  "Fuse",
  "Strip",
  "Sequence",
];
const utf8 = new TextEncoder();

/** A byte-level token's bytes; a token with other characters (an added token) is its UTF-8. */
function byteLevelBytes(token: string): Uint8Array {
  return tokenStringToBytes(token) ?? utf8.encode(token);
}

const byteLevel: Step = {
  chain(tokens) {
    const parts = tokens.map(byteLevelBytes);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
    return [new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)];
  },
  stream: (token) => typeof token === "string" ? byteLevelBytes(token) : token,
};

/** The byte of a `<0x..>` token, or -1. */
function fallbackByte(token: string): number {
  return /^<0x[0-9A-Fa-f]{2}>$/.test(token) ? parseInt(token.slice(3, 5), 16) : -1;
}

const byteFallback: Step = {
  chain(tokens) {
    const out: string[] = [], pending: number[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      try {
        // ignoreBOM: a U+FEFF of the text is text, not a byte order mark to drop.
        const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
        out.push(strict.decode(Uint8Array.from(pending)));
      } catch {
        // `tokenizers` gives one U+FFFD per byte of a run that is not UTF-8.
        for (let i = 0; i < pending.length; i++) out.push("\ufffd");
      }
      pending.length = 0;
    };
    for (const token of tokens) {
      const b = fallbackByte(token);
      if (b >= 0) pending.push(b);
      else {
        flush();
        out.push(token);
      }
    }
    flush();
    return out;
  },
  stream(token) {
    const b = typeof token === "string" ? fallbackByte(token) : -1;
    return b >= 0 ? Uint8Array.of(b) : token;
  },
};

const fuse: Step = { chain: (tokens) => [tokens.join("")], stream: (token) => token };

function metaspace(part: Json, path: string, fail: Fail): Step {
  const { replacement, prependScheme } = metaspaceOptions(part, path, fail);
  return {
    chain: (tokens) =>
      tokens.map((token, i) =>
        token.replaceAll(replacement, i === 0 && prependScheme !== "never" ? "" : " ")
      ),
    stream: (token) => typeof token === "string" ? token.replaceAll(replacement, " ") : token,
  };
}

function replace(part: Json, path: string, fail: Fail): Step {
  const regex = patternRegExp(part.pattern, `${path}.pattern`, fail);
  const content = stringAt(part, "content", path, fail);
  const one = (token: string) => replaceMatches(token, regex, content);
  return {
    chain: (tokens) => tokens.map(one),
    stream: (token) => typeof token === "string" ? one(token) : token,
  };
}

function count(part: Json, key: string, path: string, fail: Fail): number {
  const value = part[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    return fail(`${path}.${key}`, notA(value, "a count"));
  }
  return value;
}

function strip(part: Json, path: string, fail: Fail): Step {
  const content = stringAt(part, "content", path, fail);
  const start = count(part, "start", path, fail), stop = count(part, "stop", path, fail);
  return {
    // Up to `start` leading and `stop` trailing `content` characters leave each token.
    chain: (tokens) =>
      tokens.map((token) => {
        const chars = [...token];
        let from = 0, to = chars.length;
        while (from < Math.min(start, chars.length) && chars[from] === content) from++;
        while (chars.length - to < stop && to > from && chars[to - 1] === content) to--;
        return chars.slice(from, to).join("");
      }),
    stream: (token) => token,
  };
}

function buildStep(json: unknown, path: string, fail: Fail): Step {
  const part = objectAt(json, path, fail);
  const type = typeAt(part, path, fail);
  switch (type) {
    case "ByteLevel":
      return byteLevel;
    case "Metaspace":
      return metaspace(part, path, fail);
    case "Replace":
      return replace(part, path, fail);
    case "ByteFallback":
      return byteFallback;
    case "Fuse":
      return fuse;
    case "Strip":
      return strip(part, path, fail);
    case "Sequence": {
      const steps = arrayAt(part, "decoders", path, fail).map((step, i) =>
        buildStep(step, `${path}.decoders[${i}]`, fail)
      );
      return {
        chain: (tokens) => steps.reduce((out, step) => step.chain(out), tokens),
        stream: (token) => steps.reduce((out, step) => step.stream(out), token),
      };
    }
    default:
      return unsupported(path, type, SUPPORTED, fail);
  }
}

/**
 * Builds the decoder of a `tokenizer.json`.
 *
 * @param json The `decoder` part (null: tokens joined with spaces, as `tokenizers` does).
 * @param path Its JSON path, for errors.
 * @param fail Throws the load error.
 * @returns The decoder.
 *
 * @example
 * ```ts
 * import { buildDecoder } from "./decoders.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const llama = buildDecoder({
 *   type: "Sequence",
 *   decoders: [
 *     { type: "Replace", pattern: { String: "▁" }, content: " " },
 *     { type: "ByteFallback" },
 *     { type: "Fuse" },
 *     { type: "Strip", content: " ", start: 1, stop: 0 },
 *   ],
 * }, "decoder", fail);
 * console.assert(llama.decode(["▁Hello", "▁w", "<0xC3>", "<0xA9>"]) === "Hello wé");
 * console.assert(buildDecoder({ type: "ByteLevel" }, "decoder", fail).decode(["Hi", "Ġthere"]) === "Hi there");
 * ```
 */
export function buildDecoder(json: unknown, path: string, fail: Fail): Decoder {
  if (json === null || json === undefined) {
    return { decode: (tokens) => tokens.join(" "), tokenBytes: (token) => utf8.encode(token) };
  }
  const step = buildStep(json, path, fail);
  return {
    decode: (tokens) => step.chain(tokens).join(""),
    tokenBytes(token) {
      const out = step.stream(token);
      return typeof out === "string" ? utf8.encode(out) : out;
    },
  };
}
