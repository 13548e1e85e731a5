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
import { nameOsErrors, renamedInMessage, writeFileAtomic } from "../../core/files/mod.ts";
import { type HostTensor, loadSafetensors } from "../../core/runtime/mod.ts";
import { type HfGpt2Model, isHfModelDir, readHfGpt2 } from "../hf/hf_gpt2_read.ts";
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";
import { type CheckpointConfig, parseCheckpointConfig } from "./config_schema.ts";

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
 * @throws {Error} `Cannot write "OUT/step-N…": REASON` when the OS refuses (e.g. no space left on
 *   device); the temporary directory is removed, the previous checkpoint kept.
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
  try {
    await nameOsErrors("write", final, async () => {
      await Deno.mkdir(tmp, { recursive: true });
      await writeFiles(tmp);
      await Deno.writeTextFile(join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
      await Deno.copyFile(tokenizerPath, join(tmp, "tokenizer.json"));
      await Deno.remove(final, { recursive: true }).catch(() => {});
      await Deno.rename(tmp, final);
    });
  } catch (error) {
    // A full disk or a failed write leaves the previous checkpoint, and `latest`, as they were.
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    // A writer that named its file named it in the temporary folder: name it where it belongs.
    throw renamedInMessage(error, tmp, final);
  }
  await writeFileAtomic(join(outDir, "latest"), name + "\n");
  const older = (await listCheckpoints(outDir)).filter((n) => n !== name);
  for (const n of older.slice(0, Math.max(0, older.length - (keep - 1)))) {
    await nameOsErrors(
      "remove",
      join(outDir, n),
      () => Deno.remove(join(outDir, n), { recursive: true }),
    );
  }
  return final;
}

/**
 * Checkpoint directory names in `outDir` (`step-N`, complete or not), oldest first.
 *
 * @param outDir A run directory.
 * @returns The names, without temporary ones.
 */
export async function listCheckpoints(outDir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(outDir)) {
    if (e.isDirectory && /^step-\d+$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/** The files every checkpoint directory holds once it is renamed into place. */
const CHECKPOINT_FILES = ["config.json", "state.safetensors", "tokenizer.json"];

/**
 * Whether a checkpoint directory holds every file a checkpoint is written with (a folder that
 * lost some, e.g. to a removal cut short by a crash, is not resumable).
 *
 * @param dir A `step-N` directory.
 * @returns True when `config.json`, `state.safetensors` and `tokenizer.json` are all there.
 */
export async function isCompleteCheckpoint(dir: string): Promise<boolean> {
  for (const file of CHECKPOINT_FILES) {
    if (!(await Deno.stat(join(dir, file)).then((s) => s.isFile, () => false))) return false;
  }
  return true;
}

/**
 * The latest complete checkpoint of a run directory, or a checkpoint directory itself.
 *
 * @param path A run directory (with `latest`) or a checkpoint directory (with `config.json`).
 * @returns The checkpoint directory and its config.
 * @throws {Deno.errors.NotFound} If neither is found; the message names the path.
 * @throws {SyntaxError} If `config.json` is not JSON, of another format, or a field is missing,
 *   of the wrong type or out of range; the message names the file and the field.
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
  if (text === null && latest !== null) {
    throw new Deno.errors.NotFound(
      `No checkpoint at "${path}": its latest names "${latest.trim()}", which is missing or incomplete (a resumed run falls back to the newest complete step)`,
    );
  }
  if (text === null) {
    throw new Deno.errors.NotFound(
      `No checkpoint at "${path}": it has neither latest nor config.json`,
    );
  }
  return { dir, config: parseCheckpointConfig(text, join(dir, "config.json"), formats) };
}

/**
 * The parameters of a GPT of shape `cfg` among a state's tensors (optimizer moments and anything
 * else are ignored), in config order, each checked for dtype, shape and finite values (a NaN
 * weight would only surface later, as NaN logits).
 *
 * @param tensors A checkpoint's or bundle's safetensors content.
 * @param cfg The model they belong to.
 * @returns Parameters by config name.
 * @throws {RangeError} `parameter "NAME" is …, expected float32[…]` or `parameter "NAME" holds
 *   NaN at index I`; the caller names the file.
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
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        throw new RangeError(`parameter "${spec.name}" holds ${t.data[i]} at index ${i}`);
      }
    }
    values.set(spec.name, t.data);
  }
  return values;
}

/** A GPT read for use: where, its config, its parameters by name. */
export interface GPTCheckpoint {
  dir: string;
  config: CheckpointConfig;
  values: Map<string, Float32Array>;
}

/**
 * The config of a Hugging Face GPT-2 folder as a `moe-gpt` checkpoint's: step 0, and where it
 * came from under `huggingFace`.
 *
 * @param hf The folder read by `readHfGpt2`.
 * @returns The config a checkpoint of that model records.
 */
export function hfCheckpointConfig(hf: HfGpt2Model): CheckpointConfig {
  return {
    format: "moe-gpt",
    version: 1,
    name: "custom",
    model: hf.model,
    tokenizer: hf.tokenizer,
    trainer: { step: 0 },
    huggingFace: { dir: hf.dir, files: hf.files },
  };
}

/**
 * The one place that recognises a Hugging Face GPT-2 folder among the paths a model is read from
 * (`--teacher`, `moe generate`, `moe eval`, `moe export`, `moe import`): read as a checkpoint when
 * `path` is one (a `config.json` with `model_type`), else null.
 *
 * @param path A directory.
 * @returns The folder read as a checkpoint, or null when it is not a Hugging Face folder.
 * @throws {Error} `readHfGpt2`'s one-line errors for a folder it cannot read.
 *
 * @example
 * ```ts
 * import { readHfCheckpoint } from "./checkpoint.ts";
 * console.assert((await readHfCheckpoint(await Deno.makeTempDir())) === null);
 * ```
 */
export async function readHfCheckpoint(path: string): Promise<GPTCheckpoint | null> {
  if (!(await isHfModelDir(path))) return null;
  const hf = await readHfGpt2(path);
  return { dir: path, config: hfCheckpointConfig(hf), values: hf.values };
}

/**
 * Reads a GPT's parameters: a `moe train` / `moe distill` run or checkpoint directory (the
 * optimizer moments are left out), or a Hugging Face GPT-2 folder ({@linkcode readHfCheckpoint}).
 *
 * @param path A run directory (its `latest`), a `step-N` directory or a Hugging Face folder.
 * @returns The checkpoint directory, its config and the parameters by name.
 * @throws {Error} Naming `state.safetensors` when a parameter is missing or of the wrong shape
 *   (and {@linkcode findCheckpoint}'s errors when there is no checkpoint, `readHfGpt2`'s for a
 *   Hugging Face folder it cannot read).
 *
 * @example
 * ```ts
 * import { readGPTCheckpoint } from "./checkpoint.ts";
 * const missing = await readGPTCheckpoint(await Deno.makeTempDir()).catch((e) => String(e));
 * console.assert(String(missing).includes("No checkpoint"));
 * ```
 */
export async function readGPTCheckpoint(path: string): Promise<GPTCheckpoint> {
  const hf = await readHfCheckpoint(path);
  if (hf) return hf;
  const { dir, config } = await findCheckpoint(path);
  const file = join(dir, "state.safetensors");
  const { tensors } = await loadSafetensors(file);
  try {
    return { dir, config, values: gptParameters(tensors, config.model) };
  } catch (error) {
    throw new RangeError(`Cannot read the parameters in "${file}": ${(error as Error).message}`);
  }
}
