/**
 * Checkpoint directories of a run: `OUT/step-NNNNNN/` holds
 *
 * - `model.onnx`: the inference graph (`tokens [1, ctx]` → `logits [1, ctx, V]`) with the trained
 *   weights baked in, loadable by any ONNX Runtime;
 * - `config.json`: the model config, the tokenizer's fingerprint and the trainer's options and
 *   position (step, data cursors);
 * - `tokenizer.json`: a copy of the tokenizer the shards were encoded with;
 * - `state.safetensors`: parameters and AdamW moments by graph input name.
 *
 * Each directory is written under a temporary name and renamed into place, then `OUT/latest`
 * (one line: the directory name) is replaced atomically, then older checkpoints are removed: a
 * crash at any point leaves `latest` naming a complete checkpoint.
 *
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../cli/mod.ts";
import { type HostTensor, loadSafetensors } from "../runtime/mod.ts";
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";

/** `config.json` of a checkpoint. */
export interface CheckpointConfig {
  /** `moe-gpt` for a GPT (teacher or distilled student); other runners name their own. */
  format: string;
  version: 1;
  /** Preset name the model started from, or `custom`. */
  name: string;
  model: GPTConfig;
  tokenizer: { fingerprint: string; vocabSize: number; eotId: number };
  /** Everything the trainer needs to continue (options, step, data position). */
  trainer: Record<string, unknown> & { step: number };
  /** What else a runner records (e.g. `distill`: the teacher and the loss settings). */
  [extra: string]: unknown;
}

/** Name of the checkpoint directory of `step`. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/**
 * Writes a checkpoint of `step` into `outDir` and points `outDir/latest` at it.
 *
 * @param outDir The run directory.
 * @param config The checkpoint's config.json content.
 * @param writeFiles Writes the model files and `state.safetensors` into the directory it is given.
 * @param tokenizerPath The tokenizer file to copy.
 * @param keep How many checkpoints to keep (older ones are removed).
 * @returns The checkpoint directory.
 */
export async function writeCheckpoint(
  outDir: string,
  config: CheckpointConfig,
  writeFiles: (dir: string) => Promise<void>,
  tokenizerPath: string,
  keep = 1,
): Promise<string> {
  const name = checkpointName(config.trainer.step);
  const final = join(outDir, name);
  const tmp = join(outDir, `.${name}.tmp-${Deno.pid}`);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await writeFiles(tmp);
    await Deno.writeTextFile(join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
    await Deno.copyFile(tokenizerPath, join(tmp, "tokenizer.json"));
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, final);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  await writeFileAtomic(join(outDir, "latest"), name + "\n");
  const older = (await listCheckpoints(outDir)).filter((n) => n !== name);
  for (const n of older.slice(0, Math.max(0, older.length - (keep - 1)))) {
    await Deno.remove(join(outDir, n), { recursive: true });
  }
  return final;
}

/** Checkpoint directory names in `outDir`, oldest first. */
async function listCheckpoints(outDir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(outDir)) {
    if (e.isDirectory && /^step-\d+$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/**
 * The latest complete checkpoint of a run directory, or a checkpoint directory itself.
 *
 * @param path A run directory (with `latest`) or a checkpoint directory (with `config.json`).
 * @returns The checkpoint directory and its config.
 * @throws {Deno.errors.NotFound} If neither is found; the message names the path.
 *
 * @example
 * ```ts
 * import { findCheckpoint } from "./checkpoint.ts";
 * try {
 *   await findCheckpoint(await Deno.makeTempDir());
 * } catch (error) {
 *   console.assert(String(error).includes("No checkpoint"));
 * }
 * ```
 */
export async function findCheckpoint(
  path: string,
  formats: readonly string[] = ["moe-gpt"],
): Promise<{ dir: string; config: CheckpointConfig }> {
  let dir = path;
  const latest = await Deno.readTextFile(join(path, "latest")).catch(() => null);
  if (latest !== null) dir = join(path, basename(latest.trim()));
  const text = await Deno.readTextFile(join(dir, "config.json")).catch(() => null);
  if (text === null) {
    throw new Deno.errors.NotFound(
      `No checkpoint at "${path}": it has neither latest nor config.json`,
    );
  }
  const config = JSON.parse(text) as CheckpointConfig;
  if (!formats.includes(config.format)) {
    throw new SyntaxError(
      `Cannot read checkpoint "${dir}": its format "${config.format}" is not ${
        formats.join(" or ")
      }`,
    );
  }
  return { dir, config };
}

/**
 * The parameters of a GPT of shape `cfg` among a state's tensors (optimizer moments and anything
 * else are ignored), in config order, each checked for dtype and shape.
 *
 * @param tensors A checkpoint's or bundle's safetensors content.
 * @param cfg The model they belong to.
 * @returns Parameters by config name.
 * @throws {RangeError} `parameter "NAME" is …, expected float32[…]`; the caller names the file.
 *
 * @example
 * ```ts
 * import { gptParameters } from "./checkpoint.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * try {
 *   gptParameters({}, GPT_CONFIGS.tiny);
 * } catch (error) {
 *   console.assert(String(error).includes('parameter "wte" is missing, expected float32[256, 64]'));
 * }
 * ```
 */
export function gptParameters(
  tensors: Readonly<Record<string, HostTensor>>,
  cfg: GPTConfig,
): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const spec of gptParamSpecs(cfg)) {
    const t = tensors[spec.name];
    if (!t || t.dtype !== "float32" || t.dims.join() !== spec.shape.join()) {
      const got = t ? `${t.dtype}[${t.dims.join(", ")}]` : "missing";
      throw new RangeError(
        `parameter "${spec.name}" is ${got}, expected float32[${spec.shape.join(", ")}]`,
      );
    }
    values.set(spec.name, t.data);
  }
  return values;
}

/**
 * Reads a GPT checkpoint's parameters (a `moe train` / `moe distill` run or checkpoint
 * directory; the optimizer moments are left out).
 *
 * @param path A run directory (its `latest`) or a `step-N` directory.
 * @returns The checkpoint directory, its config and the parameters by name.
 * @throws {Error} Naming `state.safetensors` when a parameter is missing or of the wrong shape
 *   (and {@linkcode findCheckpoint}'s errors when there is no checkpoint).
 *
 * @example
 * ```ts
 * import { readGPTCheckpoint } from "./checkpoint.ts";
 * const missing = await readGPTCheckpoint(await Deno.makeTempDir()).catch((e) => String(e));
 * console.assert(String(missing).includes("No checkpoint"));
 * ```
 */
export async function readGPTCheckpoint(
  path: string,
): Promise<{ dir: string; config: CheckpointConfig; values: Map<string, Float32Array> }> {
  const { dir, config } = await findCheckpoint(path);
  const file = join(dir, "state.safetensors");
  const { tensors } = await loadSafetensors(file);
  try {
    return { dir, config, values: gptParameters(tensors, config.model) };
  } catch (error) {
    throw new RangeError(`Cannot read the parameters in "${file}": ${(error as Error).message}`);
  }
}
