/**
 * Exporting trained models to other ecosystems: a GPT as a Hugging Face GPT-2 folder (names,
 * config, writer), and every expert of a JEET / MoE-CE run or bundle as one such folder each,
 * with the router and `moe-bundle.json` saying how they combine.
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
export * from "./hf_gpt2_read.ts";
export * from "./hf_gpt2_write.ts";
export * from "./moe_hf.ts";
