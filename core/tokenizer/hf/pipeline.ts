/**
 * A Hugging Face `tokenizer.json` run as the pipeline `tokenizers` runs: added tokens found in the
 * raw text, the normalizer, the pre-tokenizer, the BPE model per piece; and the decoder back. This
 * is how `moe` reads tokenizers it did not train: GPT-2's byte-level BPE, Split + ByteLevel
 * (GPT-4, Llama 3), SentencePiece-style BPE (Llama 2, Mistral).
 *
 * @module
 */
import type { SpecialToken, TextTokenizer } from "../text_tokenizer.ts";
import { arrayAt, type Fail, failFor, isObject, objectAt, typeAt, unsupported } from "./_fields.ts";
import { AddedVocabulary, parseAddedTokens } from "./added_tokens.ts";
import { HfBpeModel, parseBpeModel } from "./bpe_model.ts";
import { buildDecoder, type Decoder } from "./decoders.ts";
import { buildNormalizer } from "./normalizers.ts";
import { buildPreTokenizer, type PreTokenizer } from "./pre_tokenizers.ts";

/** The parts of a pipeline, built from the JSON. */
export interface Pipeline {
  /** Added tokens, with the normalizer (applied to the text between them). */
  added: AddedVocabulary;
  /** The pre-tokenizer, or null when the model sees whole segments. */
  preTokenizer: PreTokenizer | null;
  /** The BPE model. */
  model: HfBpeModel;
  /** The decoder. */
  decoder: Decoder;
}

/** Post-processors only add special tokens around a sequence (never done here) or fix offsets. */
const POST_PROCESSORS = ["ByteLevel", "TemplateProcessing", "Sequence"];

function checkPostProcessor(json: unknown, path: string, fail: Fail): void {
  if (json === null || json === undefined) return;
  const part = objectAt(json, path, fail), type = typeAt(part, path, fail);
  if (!POST_PROCESSORS.includes(type)) unsupported(path, type, POST_PROCESSORS, fail);
  if (type === "Sequence") {
    arrayAt(part, "processors", path, fail).forEach((p, i) =>
      checkPostProcessor(p, `${path}.processors[${i}]`, fail)
    );
  }
}

/**
 * Builds the pipeline of a parsed `tokenizer.json`.
 *
 * @param json The parsed file.
 * @param fail Throws the load error naming the JSON path of the part.
 * @returns The pipeline's parts.
 *
 * @example
 * ```ts
 * import { buildPipeline } from "./pipeline.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * try {
 *   buildPipeline({ pre_tokenizer: { type: "Digits" }, model: { type: "BPE", vocab: {}, merges: [] } }, fail);
 * } catch (error) {
 *   console.assert(String(error).includes('pre_tokenizer.type "Digits" is not supported'));
 * }
 * ```
 */
export function buildPipeline(json: unknown, fail: Fail): Pipeline {
  if (!isObject(json)) return fail("the file", "is not a JSON object");
  if (json.version !== undefined && json.version !== "1.0") {
    fail("version", `is ${JSON.stringify(json.version)}, not "1.0"`);
  }
  for (const key of ["truncation", "padding"]) {
    if (json[key] !== null && json[key] !== undefined) {
      fail(key, "must be null (moe encodes whole documents)");
    }
  }
  const model = new HfBpeModel(parseBpeModel(json.model, fail));
  const normalizer = buildNormalizer(json.normalizer, "normalizer", fail);
  const preTokenizer = buildPreTokenizer(json.pre_tokenizer, "pre_tokenizer", fail);
  checkPostProcessor(json.post_processor, "post_processor", fail);
  const decoder = buildDecoder(json.decoder, "decoder", fail);
  const tokens = parseAddedTokens(
    json.added_tokens,
    (token) => model.tokenId(token),
    model.tokenCount,
    fail,
  );
  return { added: new AddedVocabulary(tokens, normalizer), preTokenizer, model, decoder };
}

/**
 * A tokenizer that runs a `tokenizer.json` pipeline.
 *
 * @example
 * ```ts
 * import { buildPipeline, PipelineTokenizer } from "./pipeline.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const vocab: Record<string, number> = {};
 * for (const c of "Ġhit") vocab[c] = Object.keys(vocab).length;
 * vocab["hi"] = 4;
 * const tok = new PipelineTokenizer(buildPipeline({
 *   added_tokens: [{ id: 5, content: "<|endoftext|>", special: true }],
 *   pre_tokenizer: { type: "ByteLevel", add_prefix_space: false },
 *   decoder: { type: "ByteLevel" },
 *   model: { type: "BPE", vocab, merges: ["h i"] },
 * }, fail), "");
 * console.assert(tok.encode("hi hit<|endoftext|>").join() === "4,0,4,3,5");
 * console.assert(tok.decode([4, 0, 4, 3, 5]) === "hi hit<|endoftext|>" && tok.vocabSize === 6);
 * ```
 */
export class PipelineTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly fingerprint: string;
  readonly specials: readonly SpecialToken[];
  readonly mergeCount: number;
  readonly #pipeline: Pipeline;
  /** Id → token string for decoding (added tokens over the model's vocab). */
  readonly #tokens: (string | undefined)[];
  #out = new Uint32Array(1 << 12);
  #length = 0;

  /**
   * Assembles a tokenizer from its parts.
   *
   * @param pipeline The parts (see {@linkcode buildPipeline}).
   * @param fingerprint sha256 of the file it came from (hex), or "".
   */
  constructor(pipeline: Pipeline, fingerprint: string) {
    this.#pipeline = pipeline;
    this.fingerprint = fingerprint;
    this.mergeCount = pipeline.model.mergeCount;
    const added = pipeline.added.tokens;
    this.specials = added.filter((t) => t.special).map(({ content, id }) => ({ content, id }));
    this.vocabSize = added.reduce((size, t) => Math.max(size, t.id + 1), pipeline.model.size);
    this.#tokens = new Array(this.vocabSize);
    pipeline.model.forEachToken((token, id) => this.#tokens[id] = token);
    for (const t of added) this.#tokens[t.id] = pipeline.added.decodedContent(t.id);
  }

  encode(text: string): Uint32Array {
    this.#length = 0;
    const { added, preTokenizer, model } = this.#pipeline;
    for (const segment of added.split(text)) {
      if (segment.id >= 0) {
        this.#push(segment.id);
        continue;
      }
      const whole = [{ text: segment.text, first: segment.first }];
      for (const piece of preTokenizer ? preTokenizer(whole) : whole) {
        const ids = model.encode(piece.text);
        if (typeof ids === "number") this.#push(ids);
        else for (const id of ids) this.#push(id);
      }
    }
    return this.#out.slice(0, this.#length);
  }

  decode(ids: ArrayLike<number>): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) {
        throw new RangeError(
          `Cannot decode id ${id} at position ${i}: ids must be integers in [0, ${
            this.vocabSize - 1
          }]`,
        );
      }
      // `tokenizers` skips an id no token has.
      const token = this.#tokens[id];
      if (token !== undefined) tokens.push(token);
    }
    return this.#pipeline.decoder.decode(tokens);
  }

  tokenBytes(id: number): Uint8Array {
    const token = this.#tokens[id];
    return token === undefined ? new Uint8Array() : this.#pipeline.decoder.tokenBytes(token);
  }

  specialId(content: string): number {
    const found = this.specials.find((s) => s.content === content);
    if (!found) {
      const known = this.specials.map((s) => s.content).join(", ");
      throw new RangeError(`Tokenizer has no special token "${content}" (it has: ${known})`);
    }
    return found.id;
  }

  #push(id: number): void {
    if (this.#length === this.#out.length) {
      const grown = new Uint32Array(this.#out.length * 2);
      grown.set(this.#out);
      this.#out = grown;
    }
    this.#out[this.#length++] = id;
  }
}

/**
 * Reads a parsed `tokenizer.json` as a pipeline tokenizer.
 *
 * @param json The parsed file.
 * @param name The file, for error messages.
 * @param fingerprint sha256 of the file (hex), or "".
 * @returns The tokenizer.
 * @throws {SyntaxError} `Cannot load tokenizer "<name>": <JSON path> <problem>` for a part that is
 * missing, malformed or not supported.
 *
 * @example
 * ```ts
 * import { pipelineTokenizer } from "./pipeline.ts";
 * try {
 *   pipelineTokenizer({ model: { type: "Unigram" } }, "t5.json");
 * } catch (error) {
 *   console.assert(String(error).includes('"t5.json": model.type "Unigram" is not supported'));
 * }
 * ```
 */
export function pipelineTokenizer(
  json: unknown,
  name: string,
  fingerprint = "",
): PipelineTokenizer {
  return new PipelineTokenizer(buildPipeline(json, failFor(name)), fingerprint);
}
