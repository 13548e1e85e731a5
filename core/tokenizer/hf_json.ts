/**
 * Reading and writing Hugging Face `tokenizer.json`. `moe` writes a `BPE` model whose vocab and
 * merges are byte-level token strings, the pre-tokenizer `Sequence[Split(Regex), ByteLevel(use_regex:
 * false)]` (the layout Llama 3 uses), a `ByteLevel` decoder, and the special tokens as added tokens;
 * any implementation of the format (Rust `tokenizers`, `@huggingface/tokenizers` in JS,
 * transformers) loads the file and produces the same ids. {@linkcode loadTokenizer} reads that
 * layout with `moe`'s fast encoder and any other BPE `tokenizer.json` (GPT-2, Llama, Mistral, …) as
 * a Hugging Face pipeline (`./hf/`).
 *
 * @module
 */
import { writeFileAtomic } from "../files/mod.ts";
import {
  byteIdsOf,
  checkModelOptions,
  type Fail,
  isObject,
  type Json,
  parseMerges,
  parseSpecials,
  parseVocab,
} from "./_hf_json_model.ts";
import { BYTE_TO_CHAR, bytesToTokenString } from "./bytes.ts";
import { pipelineTokenizer } from "./hf/mod.ts";
import { SPLIT_PATTERN } from "./pretokenize.ts";
import type { TextTokenizer } from "./text_tokenizer.ts";
import type { BpeModel } from "./tokenizer.ts";
import { Tokenizer } from "./tokenizer.ts";

/** The special tokens every `moe` tokenizer has by default. */
export const DEFAULT_SPECIALS = ["<|endoftext|>", "<|pad|>"];

function tokenStrings(model: BpeModel): string[] {
  const strings: string[] = [];
  const bytesOf: Uint8Array[] = [];
  model.byteIds.forEach((id, b) => {
    bytesOf[id] = Uint8Array.of(b);
    strings[id] = BYTE_TO_CHAR[b]!;
  });
  model.mergeIds.forEach((id, i) => {
    const left = bytesOf[model.merges[2 * i]!]!, right = bytesOf[model.merges[2 * i + 1]!]!;
    const joined = new Uint8Array(left.length + right.length);
    joined.set(left);
    joined.set(right, left.length);
    bytesOf[id] ??= joined;
    strings[id] ??= bytesToTokenString(joined);
  });
  return strings;
}

/**
 * The `tokenizer.json` object of a model.
 *
 * @param model Byte ids, merges and special tokens.
 * @returns A JSON-serialisable object in the Hugging Face format.
 *
 * @example
 * ```ts
 * import { toTokenizerJson } from "./hf_json.ts";
 * const json = toTokenizerJson({
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: Int32Array.of(32, 116), // " " + "t"
 *   mergeIds: Int32Array.of(256),
 *   specials: [{ content: "<|endoftext|>", id: 257 }],
 * });
 * console.assert(json.model.merges[0] === "Ġ t" && json.model.vocab["Ġt"] === 256);
 * ```
 */
export function toTokenizerJson(model: BpeModel) {
  const strings = tokenStrings(model);
  const vocab: Record<string, number> = {};
  strings.forEach((s, id) => vocab[s] = id);
  const merges: string[] = [];
  for (let i = 0; i < model.mergeIds.length; i++) {
    // Byte-level strings never contain a space, so the classic "left right" form is unambiguous.
    merges.push(`${strings[model.merges[2 * i]!]} ${strings[model.merges[2 * i + 1]!]}`);
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: model.specials.map(({ content, id }) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: SPLIT_PATTERN }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** Checks the parts of the file that decide how text is split and merged. */
function checkPipeline(json: Json, fail: Fail): void {
  if (json.normalizer !== null && json.normalizer !== undefined) {
    fail("normalizer", "must be null (a normalizer would change the text before splitting)");
  }
  const pre = json.pre_tokenizer;
  const steps = isObject(pre) && pre.type === "Sequence" && Array.isArray(pre.pretokenizers)
    ? pre.pretokenizers as unknown[]
    : [];
  const [split, byteLevel] = steps;
  const pattern = isObject(split) && isObject(split.pattern) ? split.pattern.Regex : undefined;
  if (steps.length !== 2 || !isObject(split) || split.type !== "Split") {
    fail("pre_tokenizer", "must be a Sequence of a Split (Regex) and a ByteLevel pre-tokenizer");
  }
  if (pattern !== SPLIT_PATTERN || split.behavior !== "Isolated" || split.invert !== false) {
    fail(
      "pre_tokenizer.pretokenizers[0].pattern.Regex",
      "is not the moe split pattern (behavior Isolated, invert false)",
    );
  }
  if (!isObject(byteLevel) || byteLevel.type !== "ByteLevel" || byteLevel.use_regex !== false) {
    fail("pre_tokenizer.pretokenizers[1]", "must be ByteLevel with use_regex false");
  }
  if (byteLevel.add_prefix_space === true) {
    fail("pre_tokenizer.pretokenizers[1].add_prefix_space", "must be false");
  }
}

/**
 * Whether a parsed `tokenizer.json` has the layout `moe tokenizer train` writes (whatever its vocab):
 * no normalizer, `moe`'s split pattern then `ByteLevel` without regex or prefix space, a `ByteLevel`
 * decoder, and a plain byte-level `BPE` model. Such files are encoded by `moe`'s own
 * {@linkcode Tokenizer}, where special-token text in a document stays text.
 *
 * @param json The parsed file.
 * @returns True for `moe`'s layout.
 *
 * @example
 * ```ts
 * import { isMoeLayout, toTokenizerJson } from "./hf_json.ts";
 * const json = toTokenizerJson({
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: new Int32Array(),
 *   mergeIds: new Int32Array(),
 *   specials: [{ content: "<|endoftext|>", id: 256 }],
 * });
 * console.assert(isMoeLayout(json) && !isMoeLayout({ ...json, normalizer: { type: "NFC" } }));
 * ```
 */
export function isMoeLayout(json: unknown): boolean {
  if (!isObject(json) || !isObject(json.model)) return false;
  const model = json.model;
  const decoder = json.decoder;
  try {
    checkPipeline(json, (field, problem) => {
      throw new SyntaxError(`${field} ${problem}`);
    });
  } catch {
    return false;
  }
  return model.type === "BPE" && isObject(decoder) && decoder.type === "ByteLevel" &&
    ["continuing_subword_prefix", "end_of_word_suffix", "unk_token", "dropout"].every((key) =>
      model[key] === null || model[key] === undefined
    ) && model.byte_fallback !== true && model.ignore_merges !== true &&
    (json.truncation ?? null) === null && (json.padding ?? null) === null;
}

/**
 * Reads a `tokenizer.json` object of `moe`'s layout back into a model.
 *
 * @param json The parsed file.
 * @param name The file name, for error messages.
 * @returns Byte ids, merges and special tokens.
 * @throws {SyntaxError} Naming the field that is missing, malformed or unsupported.
 *
 * @example
 * ```ts
 * import { parseTokenizerJson, toTokenizerJson } from "./hf_json.ts";
 * const model = {
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: Int32Array.of(32, 116),
 *   mergeIds: Int32Array.of(256),
 *   specials: [{ content: "<|endoftext|>", id: 257 }],
 * };
 * const back = parseTokenizerJson(toTokenizerJson(model), "tok.json");
 * console.assert(back.mergeIds[0] === 256 && back.specials[0]!.id === 257);
 * try {
 *   parseTokenizerJson({ model: { type: "WordPiece" } }, "bert.json");
 * } catch (error) {
 *   console.assert(String(error).includes("model.type"));
 * }
 * ```
 */
export function parseTokenizerJson(json: unknown, name: string): BpeModel {
  const fail: Fail = (field, problem) => {
    throw new SyntaxError(`Cannot load tokenizer "${name}": ${field} ${problem}`);
  };
  if (!isObject(json)) return fail("the file", "is not a JSON object");
  const model = json.model;
  if (!isObject(model)) return fail("model", "is missing");
  checkModelOptions(model, fail);
  checkPipeline(json, fail);
  const idOf = parseVocab(model.vocab, fail);
  const byteIds = byteIdsOf(idOf, fail);
  const { merges, mergeIds } = parseMerges(model.merges, idOf, fail);
  const specials = parseSpecials(json.added_tokens ?? [], idOf, fail);
  return { byteIds, merges, mergeIds, specials };
}

/**
 * sha256 of bytes, hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hf_json.ts";
 * console.assert((await sha256Hex(new Uint8Array())).startsWith("e3b0c442"));
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Loads a `tokenizer.json` file: `moe`'s own layout (see {@linkcode isMoeLayout}) with `moe`'s
 * encoder, any other as a Hugging Face pipeline that encodes and decodes as `tokenizers` does
 * (byte-level BPE as GPT-2, GPT-4 or Llama 3 ship it; SentencePiece-style BPE as Llama 2 and
 * Mistral ship it). Its fingerprint is the sha256 of the file's bytes.
 *
 * @param path The file.
 * @returns A ready tokenizer (`encode`, `decode`, `vocabSize`, `fingerprint`).
 * @throws {SyntaxError} If the file is not JSON or not a tokenizer this code can run, naming the
 * JSON path of the part.
 * @throws {Deno.errors.NotFound} If the file does not exist.
 *
 * @example
 * ```ts
 * import { loadTokenizer, saveTokenizer } from "./hf_json.ts";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await saveTokenizer(path, {
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: Int32Array.of(104, 105),
 *   mergeIds: Int32Array.of(256),
 *   specials: [{ content: "<|endoftext|>", id: 257 }],
 * });
 * const tok = await loadTokenizer(path);
 * console.assert(tok.encode("hi").join() === "256" && tok.fingerprint.length === 64);
 * ```
 */
export async function loadTokenizer(path: string): Promise<TextTokenizer> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(`Cannot load tokenizer "${path}": no such file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new SyntaxError(
      `Cannot load tokenizer "${path}": not JSON (${(error as Error).message})`,
    );
  }
  const fingerprint = await sha256Hex(bytes);
  if (!isMoeLayout(json)) return pipelineTokenizer(json, path, fingerprint);
  const model = parseTokenizerJson(json, path);
  try {
    return new Tokenizer(model, fingerprint);
  } catch (error) {
    throw new SyntaxError(
      `Cannot load tokenizer "${path}": model.merges ${(error as Error).message}`,
    );
  }
}

/**
 * Writes a model as `tokenizer.json` (atomically: temporary file, then rename).
 *
 * @param path Destination.
 * @param model The model.
 * @returns The file's fingerprint (sha256 hex).
 *
 * @example
 * ```ts
 * import { saveTokenizer } from "./hf_json.ts";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * const sha = await saveTokenizer(path, {
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: new Int32Array(),
 *   mergeIds: new Int32Array(),
 *   specials: [{ content: "<|endoftext|>", id: 256 }],
 * });
 * console.assert(sha.length === 64 && JSON.parse(await Deno.readTextFile(path)).model.type === "BPE");
 * ```
 */
export async function saveTokenizer(path: string, model: BpeModel): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(toTokenizerJson(model), null, 2) + "\n");
  await writeFileAtomic(path, bytes);
  return sha256Hex(bytes);
}
