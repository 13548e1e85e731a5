/**
 * Exporting trained models to other ecosystems: Hugging Face GPT-2 safetensors and config.
 *
 * @example
 * ```ts
 * import { hfGpt2Name } from "./mod.ts";
 * console.assert(hfGpt2Name("wte") === "transformer.wte.weight");
 * ```
 *
 * @module
 */
export * from "./hf_gpt2.ts";
