/**
 * Incremental detokenization: token ids in, text out as soon as it is whole. A byte-level BPE
 * token can end in the middle of a UTF-8 character (an emoji spread over two tokens), so bytes
 * go through a streaming `TextDecoder` that holds an incomplete sequence until the next token.
 *
 * @module
 */

/** Anything that knows each token's bytes (a `Tokenizer`). */
export interface TokenBytes {
  tokenBytes(id: number): Uint8Array;
}

/**
 * Turns a stream of token ids into text without breaking multi-byte characters.
 *
 * @example
 * ```ts
 * import { TokenTextStream } from "./text_stream.ts";
 * // token 0 = the first two bytes of "é€" (é is C3 A9), token 1 = the euro sign E2 82 AC
 * const bytes = [Uint8Array.of(0xc3), Uint8Array.of(0xa9, 0xe2), Uint8Array.of(0x82, 0xac)];
 * const stream = new TokenTextStream({ tokenBytes: (id) => bytes[id]! });
 * console.assert(stream.push(0) === "" && stream.push(1) === "é" && stream.push(2) === "€");
 * console.assert(stream.flush() === "");
 * ```
 */
export class TokenTextStream {
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(private readonly tokenizer: TokenBytes) {}

  /** The text completed by token `id` (may be empty while a character is incomplete). */
  push(id: number): string {
    return this.#decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** What is left at the end (U+FFFD for an incomplete trailing sequence). */
  flush(): string {
    return this.#decoder.decode();
  }
}
