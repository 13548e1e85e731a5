/**
 * Text generation: a {@linkcode Decoder} interface with a KV-cache implementation (prefill and
 * one-token graphs over a cache kept on the backend) and a full-recompute one (the reference),
 * a seeded sampler (greedy, temperature, top-k, top-p), the generation loop with its context
 * policy (truncate the prompt from the left, slide the window when full), incremental UTF-8 safe
 * detokenization, and opening a trained checkpoint.
 *
 * @example
 * ```ts
 * import { generate, openGPTDecoder, TokenTextStream } from "./mod.ts";
 * import { openBackend } from "../../core/runtime/mod.ts";
 * import { GPT_CONFIGS, initGPT } from "../../models/gpt.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * const cfg = GPT_CONFIGS.tiny; // byte-level vocabulary of 256
 * const decoder = await openGPTDecoder(backend, cfg, initGPT(cfg, 3));
 * const stream = new TokenTextStream({ tokenBytes: (id) => Uint8Array.of(id) });
 * let text = "";
 * const result = await generate(decoder, [...new TextEncoder().encode("Hello")], {
 *   maxTokens: 8,
 *   eotId: null,
 *   sampling: { temperature: 0.8, topK: 40, topP: 0.95, seed: 7 },
 * }, (id) => void (text += stream.push(id)));
 * text += stream.flush();
 * console.assert(result.tokens.length === 8 && typeof text === "string");
 * await decoder.dispose();
 * ```
 *
 * @module
 */
export * from "./decoder.ts";
export * from "./checked_decoder.ts";
export * from "./kv_cache_decoder.ts";
export * from "./recompute_decoder.ts";
export * from "./gpt_decoder.ts";
export * from "./mixture_decoder.ts";
export * from "./sampler.ts";
export * from "./text_stream.ts";
export * from "./generate.ts";
export * from "./likelihood_route.ts";
export * from "./open_model.ts";
