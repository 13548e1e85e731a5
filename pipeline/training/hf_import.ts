/**
 * `moe import hf`: a Hugging Face GPT-2 folder converted to a `moe` run — `latest` naming
 * `step-000000/` with the files every `moe train` checkpoint holds (`config.json` of format
 * `moe-gpt`, `state.safetensors` with the parameters, `tokenizer.json`, `model.onnx`), so the copy
 * works wherever a run does. The parameters are the folder's, widened to float32 and nothing else
 * changed: reading the folder directly gives the same numbers.
 *
 * @module
 */
import { join } from "node:path";
import { type HostTensor, saveSafetensors } from "../../core/runtime/mod.ts";
import { readHfGpt2 } from "../hf/hf_gpt2_read.ts";
import { hfCheckpointConfig, writeCheckpoint } from "./checkpoint.ts";
import type { CheckpointConfig } from "./config_schema.ts";
import { writeGPTModel } from "./gpt_runner.ts";
import { gptParamSpecs } from "../../models/gpt.ts";

/** What {@linkcode importHfGpt2} wrote. */
export interface ImportedRun {
  /** The checkpoint directory inside the run. */
  checkpoint: string;
  config: CheckpointConfig;
  /** Parameters written. */
  parameters: number;
}

/**
 * Reads the Hugging Face GPT-2 folder `source` and writes it as a run into `out` (an empty
 * directory: the caller makes it atomic).
 *
 * @param source The Hugging Face folder.
 * @param out The run directory to fill.
 * @returns The checkpoint written, its config and the parameter count.
 * @throws {Error} `readHfGpt2`'s one-line errors naming the file and the field or tensor; nothing
 *   is written then.
 *
 * @example
 * ```ts ignore
 * const { checkpoint } = await importHfGpt2("hf/gpt2", "runs/gpt2");
 * // runs/gpt2/latest → step-000000, readable by moe generate, moe eval, moe distill --teacher
 * ```
 */
export async function importHfGpt2(source: string, out: string): Promise<ImportedRun> {
  const hf = await readHfGpt2(source);
  const config = hfCheckpointConfig(hf);
  const state: Record<string, HostTensor> = {};
  for (const spec of gptParamSpecs(hf.model)) {
    state[spec.name] = { dtype: "float32", dims: spec.shape, data: hf.values.get(spec.name)! };
  }
  const checkpoint = await writeCheckpoint(
    out,
    config,
    async (dir) => {
      await writeGPTModel(dir, hf.model, state);
      await saveSafetensors(join(dir, "state.safetensors"), state, { step: "0" });
    },
    join(source, "tokenizer.json"),
  );
  let parameters = 0;
  for (const v of hf.values.values()) parameters += v.length;
  return { checkpoint, config, parameters };
}
