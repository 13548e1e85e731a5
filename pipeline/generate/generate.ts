/**
 * The generation loop: fit the prompt to the context, prefill, then sample and step until
 * `maxTokens` or the end-of-text token.
 *
 * Context policy (static shapes: the model sees at most `ctx` tokens):
 * - The prompt keeps its last `ctx − min(maxTokens, ⌊ctx/2⌋)` tokens: room for the whole
 *   generation when it fits, never less than half the context for the prompt. Dropped tokens are
 *   counted in `truncated`, for the caller to report.
 * - When the sequence fills the context, the loop *slides*: it re-prefills the last `⌊ctx/2⌋`
 *   tokens and goes on (positions are absolute, so the cache cannot simply shift). Both decoders
 *   slide at the same tokens, so the KV cache and the full recompute agree everywhere.
 *
 * @module
 */
import type { Decoder } from "./decoder.ts";
import { Sampler, type SamplingOptions } from "./sampler.ts";

/** What to generate. */
export interface GenerateOptions {
  /** Most tokens to generate (≥ 1). */
  maxTokens: number;
  /** Stop when this token is drawn (it is not emitted); null: never stop early. */
  eotId: number | null;
  sampling: SamplingOptions;
  /**
   * The decoder already read the fitted prompt (likelihood routing prefilled it to score it):
   * these are its next-token logits, and the loop starts from its cache without a prefill.
   */
  prefilled?: Float32Array;
}

/** Why the loop ended. */
export type StopReason = "eot" | "max_tokens";

/** What {@linkcode generate} did. */
export interface GenerateResult {
  /** Generated token ids (the end-of-text token excluded). */
  tokens: number[];
  /** Prompt tokens dropped from the left to fit the context. */
  truncated: number;
  /** Prompt tokens the model read. */
  promptTokens: number;
  stop: StopReason;
  /** Times the window slid (re-prefill of the last half context). */
  slides: number;
  /** From the call to the first drawn token: prefill plus one draw. */
  firstTokenMs: number;
  /** Tokens after the first, per second after the first (all tokens when only one). */
  tokensPerSecond: number;
}

/**
 * The prompt part the model reads (see the module doc).
 *
 * @param ids The prompt's token ids.
 * @param contextLength The model's context.
 * @param maxTokens Tokens to generate.
 * @returns The kept ids and how many were dropped from the left.
 *
 * @example
 * ```ts
 * import { fitPrompt } from "./generate.ts";
 * const { ids, truncated } = fitPrompt([1, 2, 3, 4, 5, 6], 8, 4);
 * console.assert(ids.join() === "3,4,5,6" && truncated === 2);
 * console.assert(fitPrompt([1, 2, 3, 4, 5, 6], 8, 100).ids.length === 4);
 * ```
 */
export function fitPrompt(
  ids: readonly number[],
  contextLength: number,
  maxTokens: number,
): { ids: number[]; truncated: number } {
  const room = contextLength - Math.min(maxTokens, Math.floor(contextLength / 2));
  const truncated = Math.max(0, ids.length - room);
  return { ids: ids.slice(truncated), truncated };
}

/**
 * Generates up to `maxTokens` tokens after `promptIds`.
 *
 * @param decoder The model (KV cache or full recompute).
 * @param promptIds The prompt; empty starts from `eotId` (the start of a new document).
 * @param options Length, stop token and sampling.
 * @param onToken Called with each generated id as soon as it is drawn (for streaming).
 * @returns The tokens, truncation, stop reason and timings.
 * @throws {RangeError} If `maxTokens < 1`, the prompt is empty and `eotId` is null, or a
 *   `prefilled` decoder holds another number of tokens than the fitted prompt.
 *
 * @example
 * ```ts
 * import { generate, GREEDY, openGPTDecoder } from "./mod.ts";
 * import { openBackend } from "../../core/runtime/mod.ts";
 * import { GPT_CONFIGS, initGPT } from "../../models/gpt.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * const decoder = await openGPTDecoder(backend, GPT_CONFIGS.tiny, initGPT(GPT_CONFIGS.tiny, 1));
 * const seen: number[] = [];
 * const r = await generate(decoder, [104, 105], { maxTokens: 5, eotId: null, sampling: GREEDY },
 *   (id) => void seen.push(id));
 * console.assert(r.tokens.length === 5 && r.stop === "max_tokens" && seen.join() === r.tokens.join());
 * await decoder.dispose();
 * ```
 */
export async function generate(
  decoder: Decoder,
  promptIds: readonly number[],
  options: GenerateOptions,
  onToken?: (id: number) => void | Promise<void>,
): Promise<GenerateResult> {
  if (!(Number.isInteger(options.maxTokens) && options.maxTokens >= 1)) {
    throw new RangeError(`Invalid max tokens ${options.maxTokens}: expected an integer ≥ 1`);
  }
  const start = performance.now();
  let prompt = [...promptIds];
  if (prompt.length === 0) {
    if (options.eotId === null) throw new RangeError("Cannot generate: empty prompt");
    prompt = [options.eotId];
  }
  const ctx = decoder.contextLength;
  const fitted = fitPrompt(prompt, ctx, options.maxTokens);
  const sampler = new Sampler(options.sampling);
  const sequence = [...fitted.ids];
  const tokens: number[] = [];
  if (options.prefilled && decoder.length !== fitted.ids.length) {
    throw new RangeError(
      `Cannot continue a prefilled decoder: it holds ${decoder.length} tokens, the prompt ${fitted.ids.length}`,
    );
  }
  let logits = options.prefilled ?? await decoder.prefill(fitted.ids);
  let slides = 0, firstAt = start, stop: StopReason = "max_tokens";
  while (tokens.length < options.maxTokens) {
    const id = sampler.next(logits);
    if (tokens.length === 0) firstAt = performance.now();
    if (id === options.eotId) {
      stop = "eot";
      break;
    }
    tokens.push(id);
    sequence.push(id);
    await onToken?.(id);
    if (tokens.length === options.maxTokens) break;
    if (decoder.length < ctx) {
      logits = await decoder.step(id);
    } else {
      logits = await decoder.prefill(sequence.slice(-Math.floor(ctx / 2)));
      slides++;
    }
  }
  const end = performance.now();
  const after = tokens.length - 1;
  return {
    tokens,
    truncated: fitted.truncated,
    promptTokens: fitted.ids.length,
    stop,
    slides,
    firstTokenMs: firstAt - start,
    tokensPerSecond: after > 0
      ? after / ((end - firstAt) / 1000)
      : tokens.length / ((end - start) / 1000),
  };
}
