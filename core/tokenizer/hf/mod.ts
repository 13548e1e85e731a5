/**
 * Hugging Face `tokenizer.json` files `moe` did not write, run as `tokenizers` runs them: added
 * tokens, normalizers, pre-tokenizers, the BPE model (byte-level or SentencePiece-style with byte
 * fallback) and decoders, one module each, assembled by {@linkcode buildPipeline}. What is not
 * supported is refused with the JSON path of the part.
 *
 * @example
 * ```ts
 * import { buildPipeline, PipelineTokenizer } from "./mod.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const vocab: Record<string, number> = { "<unk>": 0, "</s>": 1, "▁": 2, a: 3, "▁a": 4 };
 * const tok = new PipelineTokenizer(buildPipeline({
 *   added_tokens: [{ id: 0, content: "<unk>", special: true }, { id: 1, content: "</s>", special: true }],
 *   pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true },
 *   decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "first" },
 *   model: { type: "BPE", vocab, merges: [["▁", "a"]], unk_token: "<unk>" },
 * }, fail), "");
 * console.assert(tok.encode("a a").join() === "4,4" && tok.decode([4, 4]) === "a a");
 * ```
 *
 * @module
 */
export type { Fail, Json } from "./_fields.ts";
export * from "./added_tokens.ts";
export * from "./bpe_model.ts";
export * from "./decoders.ts";
export * from "./normalizers.ts";
export * from "./pipeline.ts";
export * from "./pre_tokenizers.ts";
export * from "./regex.ts";
