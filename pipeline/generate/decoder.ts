/**
 * The {@linkcode Decoder} interface that the generation loop drives: feed a prompt, get the next
 * token's logits, feed one token at a time.
 *
 * @module
 */

/** What a scored prefill returns. */
export interface ScoredPrefill {
  /** The logits of the token after the last one (a fresh array). */
  logits: Float32Array;
  /**
   * The prompt's log-likelihood under the model, `Σₜ log p(ids[t+1] | ids[..t])` in nats (the
   * first token unscored; 0 for one token).
   */
  logLikelihood: number;
}

/** A language model loaded for generation, holding the tokens fed so far. */
export interface Decoder {
  /** Most tokens it can hold (the model's context length). */
  readonly contextLength: number;
  /** Length of the logits vectors. */
  readonly vocabSize: number;
  /** Tokens held now (after `prefill` of n ids: n; each `step` adds one). */
  readonly length: number;
  /**
   * Forgets what it held and reads `ids`.
   *
   * @param ids 1 to `contextLength` token ids.
   * @returns The logits of the token after the last one (a fresh array).
   * @throws {RangeError} If `ids` is empty or longer than the context.
   */
  prefill(ids: ArrayLike<number>): Promise<Float32Array>;
  /**
   * Like `prefill`, and scores `ids` in the same runs (likelihood routing): the cache it fills is
   * the one generation continues from. Present on decoders opened to score (`score: true`).
   *
   * @throws {RangeError} As `prefill`.
   */
  prefillScored?(ids: ArrayLike<number>): Promise<ScoredPrefill>;
  /**
   * Appends one token.
   *
   * @returns The logits of the token after it.
   * @throws {RangeError} If the decoder already holds `contextLength` tokens or was not prefilled.
   */
  step(id: number): Promise<Float32Array>;
  /** Frees the sessions and device memory. */
  dispose(): Promise<void>;
}

/** Checks a prefill against the context; shared by the implementations. */
export function checkPrefill(ids: ArrayLike<number>, contextLength: number): void {
  if (ids.length === 0) throw new RangeError("Cannot prefill the decoder: no tokens");
  if (ids.length > contextLength) {
    throw new RangeError(
      `Cannot prefill the decoder: ${ids.length} tokens exceed the context of ${contextLength}`,
    );
  }
}

/** Checks that one more token fits. */
export function checkStep(length: number, contextLength: number): void {
  if (length === 0) throw new RangeError("Cannot step the decoder: prefill it first");
  if (length >= contextLength) {
    throw new RangeError(
      `Cannot step the decoder: it holds ${length} tokens, the whole context; prefill a window`,
    );
  }
}
