/**
 * Writing one of our GPTs as a Hugging Face GPT-2 folder, what `GPT2LMHeadModel.from_pretrained`
 * and `readHfGpt2` load: `config.json` ({@linkcode hfGpt2Config}), `model.safetensors` (our
 * parameters under their `transformers` names, {@linkcode toHfGpt2}) and `tokenizer.json`.
 *
 * @module
 */
import { join } from "node:path";
import { type HostTensor, saveSafetensors } from "../../core/runtime/mod.ts";
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";
import { hfGpt2Config, toHfGpt2 } from "./hf_gpt2.ts";

/** The files of a Hugging Face GPT-2 folder. */
export const HF_GPT2_FILES: readonly string[] = [
  "model.safetensors",
  "config.json",
  "tokenizer.json",
];

/** What a Hugging Face folder is written from. */
export interface HfGpt2Source {
  model: GPTConfig;
  /** Parameters by our name (`wte`, `h0.attn.qkv.w`, …, `lm_head` when untied). */
  values: ReadonlyMap<string, Float32Array>;
  /** The `tokenizer.json` to copy beside the weights. */
  tokenizerPath: string;
  /** The `<|endoftext|>` id (GPT-2's bos and eos). */
  eotId: number;
}

/**
 * Writes `source` into the existing directory `dir` as a Hugging Face GPT-2 folder.
 *
 * @param dir The folder to fill (the caller makes it atomic).
 * @param source The model, its parameters, its tokenizer.
 * @returns The files written ({@linkcode HF_GPT2_FILES}).
 * @throws {RangeError} If a parameter of the model is missing or has the wrong size.
 *
 * @example
 * ```ts
 * import { writeHfGpt2Folder } from "./hf_gpt2_write.ts";
 * import { GPT_CONFIGS, initGPT } from "../../models/gpt.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/tok.json`, "{}");
 * const model = { ...GPT_CONFIGS.tiny, head: "untied" as const };
 * const source = { model, values: initGPT(model, 1), tokenizerPath: `${dir}/tok.json`, eotId: 0 };
 * const files = await writeHfGpt2Folder(dir, source);
 * const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
 * console.assert(files.length === 3 && config.tie_word_embeddings === false);
 * ```
 */
export async function writeHfGpt2Folder(dir: string, source: HfGpt2Source): Promise<string[]> {
  const { model, values } = source;
  const state: Record<string, HostTensor> = {};
  for (const spec of gptParamSpecs(model)) {
    const data = values.get(spec.name);
    if (data) state[spec.name] = { dtype: "float32", dims: spec.shape, data };
  }
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify(hfGpt2Config(model, source.eotId), null, 2) + "\n",
  );
  await saveSafetensors(join(dir, "model.safetensors"), toHfGpt2(model, state), {
    format: "pt",
  });
  await Deno.copyFile(source.tokenizerPath, join(dir, "tokenizer.json"));
  return [...HF_GPT2_FILES];
}
