/**
 * What the rest of `moe` needs from a loaded tokenizer, whichever kind it is: `moe`'s own
 * byte-level BPE ({@linkcode Tokenizer}) or a Hugging Face `tokenizer.json` run as its pipeline
 * (`PipelineTokenizer`) — and the choice of the end-of-document token that token shards put
 * between documents.
 *
 * @module
 */

/** A special token: its text and id. */
export interface SpecialToken {
  /** Its text. */
  content: string;
  /** Its id. */
  id: number;
}

/** A loaded tokenizer. */
export interface TextTokenizer {
  /** Number of ids (one more than the largest). */
  readonly vocabSize: number;
  /** sha256 of the `tokenizer.json` it was loaded from (hex), or "" when built in memory. */
  readonly fingerprint: string;
  /** The special tokens. */
  readonly specials: readonly SpecialToken[];
  /** Number of merge rules. */
  readonly mergeCount: number;
  /** Token ids of a text (no special tokens added around it). */
  encode(text: string): Uint32Array;
  /**
   * Text of token ids.
   *
   * @throws {RangeError} Naming the first id that is out of range.
   */
  decode(ids: ArrayLike<number>): string;
  /** The bytes token `id` adds to a text it does not start (for streaming output). */
  tokenBytes(id: number): Uint8Array;
  /**
   * The id of a special token.
   *
   * @throws {RangeError} If the tokenizer has no such special token.
   */
  specialId(content: string): number;
}

/**
 * Special tokens that end a document, in order of preference: GPT-2's and `moe`'s, Llama 3's,
 * SentencePiece's (Llama 2, Mistral), Gemma's.
 */
export const END_OF_TEXT_TOKENS = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>"];

/**
 * The id token shards put after each document: the first of {@linkcode END_OF_TEXT_TOKENS} the
 * tokenizer has as a special token.
 *
 * @param tokenizer Its special tokens.
 * @param name The tokenizer file, for the error message.
 * @returns The id.
 * @throws {RangeError} If it has none of them.
 *
 * @example
 * ```ts
 * import { endOfTextId } from "./text_tokenizer.ts";
 * const specials = [{ content: "<s>", id: 1 }, { content: "</s>", id: 2 }];
 * console.assert(endOfTextId({ specials }) === 2);
 * try {
 *   endOfTextId({ specials: [{ content: "<s>", id: 1 }] }, "tok.json");
 * } catch (error) {
 *   console.assert(String(error).includes('"tok.json": it has no end-of-document special token'));
 * }
 * ```
 */
export function endOfTextId(tokenizer: Pick<TextTokenizer, "specials">, name?: string): number {
  for (const content of END_OF_TEXT_TOKENS) {
    const found = tokenizer.specials.find((s) => s.content === content);
    if (found) return found.id;
  }
  const has = tokenizer.specials.map((s) => s.content).join(", ") || "none";
  const which = name === undefined ? "this tokenizer" : `tokenizer ${JSON.stringify(name)}`;
  throw new RangeError(
    `Cannot separate documents with ${which}: it has no end-of-document special token ` +
      `(looked for ${END_OF_TEXT_TOKENS.join(", ")}; it has ${has})`,
  );
}
