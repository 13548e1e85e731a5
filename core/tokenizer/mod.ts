/**
 * Byte-level BPE tokenizer: training (word counts on Workers, incremental pair counts with a
 * priority queue), Hugging Face `tokenizer.json` reading/writing, encoding/decoding with exact
 * round trips for any bytes, and binary token shards for the trainer. Foreign BPE
 * `tokenizer.json` files (GPT-2, Llama, Mistral, …) load too, run as their Hugging Face pipeline
 * (`hf/`).
 *
 * @example
 * ```ts
 * import { loadTokenizer, saveTokenizer, trainTokenizer } from "./mod.ts";
 * const result = await trainTokenizer(["low lower lowest", "new newer newest"], {
 *   vocabSize: 270, minFrequency: 2, threads: 1,
 * });
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await saveTokenizer(path, result.model);
 * const tok = await loadTokenizer(path);
 * console.assert(tok.decode(tok.encode("lowest newer")) === "lowest newer");
 * ```
 *
 * @module
 */
export * from "./bytes.ts";
export * from "./pretokenize.ts";
export * from "./pairs.ts";
export * from "./pair_table.ts";
export * from "./count.ts";
export * from "./train_bpe.ts";
export * from "./text_tokenizer.ts";
export * from "./bpe_merge.ts";
export * from "./tokenizer.ts";
export * from "./hf_json.ts";
export { PipelineTokenizer, pipelineTokenizer } from "./hf/mod.ts";
export * from "./train_corpus.ts";
export * from "./shards.ts";
export * from "./encode_dataset.ts";
export * from "./tokens_manifest_schema.ts";
export * from "./compression.ts";
