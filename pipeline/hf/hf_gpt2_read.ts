/**
 * Reading a Hugging Face GPT-2 folder — what `save_pretrained` of `transformers`'
 * `GPT2LMHeadModel` writes, and what `moe export` writes — as our GPT: `config.json`
 * (`model_type` "gpt2"), `model.safetensors` or the shards listed in
 * `model.safetensors.index.json`, and `tokenizer.json`.
 *
 * Tensors may be F32, F16 or BF16 (widened to float32), named with or without the
 * `transformer.` prefix (`GPT2LMHeadModel` or `GPT2Model`); the Conv1D weights are `[in, out]` as
 * ours, so nothing is transposed (the names come from {@linkcode hfGpt2Names}, the one mapping).
 * The causal-mask buffers `attn.bias` and `attn.masked_bias` that older versions saved are
 * skipped. Anything else — another `model_type`, an option our GPT does not compute, a missing,
 * unexpected or misshapen tensor, another dtype — is refused with one line naming the file and
 * the field or tensor.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { checkJson, finite, integer, parseJsonText } from "../../core/schema/mod.ts";
import { float32Values, type HostTensor, loadSafetensors } from "../../core/runtime/mod.ts";
import { endOfTextId, loadTokenizer } from "../../core/tokenizer/mod.ts";
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";
import { hfGpt2Names } from "./hf_gpt2.ts";

/** The single-file weights of a Hugging Face folder. */
export const HF_WEIGHTS_FILE = "model.safetensors";
/** The index of sharded weights (`weight_map`: tensor name → shard file). */
export const HF_INDEX_FILE = "model.safetensors.index.json";

/** A Hugging Face GPT-2 folder read as our GPT. */
export interface HfGpt2Model {
  /** The folder. */
  dir: string;
  model: GPTConfig;
  /** Parameters by our name (`wte`, `h0.attn.qkv.w`, …, `lm_head` when untied). */
  values: Map<string, Float32Array>;
  /** The `tokenizer.json` beside the weights: its sha256, its vocabulary size, its end-of-text id. */
  tokenizer: { fingerprint: string; vocabSize: number; eotId: number };
  /** The weight files read, relative to `dir`. */
  files: string[];
}

/**
 * Whether `dir` holds a Hugging Face model: a `config.json` with a `model_type` (`moe`'s own
 * checkpoints record a `format` instead). Which model type is checked by {@linkcode readHfGpt2}.
 *
 * @param dir A directory.
 * @returns True for a Hugging Face folder; false when there is no `config.json`, it is not a
 *   JSON object, or it has no `model_type`.
 *
 * @example
 * ```ts
 * import { isHfModelDir } from "./hf_gpt2_read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, '{"model_type": "gpt2"}');
 * console.assert(await isHfModelDir(dir));
 * ```
 */
export async function isHfModelDir(dir: string): Promise<boolean> {
  const text = await Deno.readTextFile(join(dir, "config.json")).catch(() => null);
  if (text === null) return false;
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === "object" && json !== null && "model_type" in json;
  } catch {
    return false;
  }
}

/** transformers' `GPT2Config` defaults fill the keys `save_pretrained` leaves out. */
const gpt2ConfigSchema = z.looseObject({
  vocab_size: integer(2).default(50257),
  n_positions: integer(1).exactOptional(),
  n_ctx: integer(1).exactOptional(),
  n_embd: integer(1).default(768),
  n_layer: integer(1).default(12),
  n_head: integer(1).default(12),
  n_inner: integer(1).nullable().default(null),
  activation_function: z.enum(["gelu_new", "gelu_pytorch_tanh", "gelu"], {
    error: "must be gelu_new, gelu_pytorch_tanh or gelu (the GELUs our GPT computes)",
  }).default("gelu_new"),
  layer_norm_epsilon: finite({ min: 0, open: "min" }).default(1e-5),
  tie_word_embeddings: z.boolean({ error: "must be true or false" }).default(true),
  scale_attn_weights: z.literal(true, { error: "must be true (attention scaled by 1/√d)" })
    .default(true),
  scale_attn_by_inverse_layer_idx: z.literal(false, { error: "must be false (not supported)" })
    .default(false),
  add_cross_attention: z.literal(false, { error: "must be false (no encoder)" }).default(false),
  eos_token_id: integer(0).nullable().exactOptional(),
});

/**
 * Our GPT config of a Hugging Face GPT-2 `config.json` (absent keys take `GPT2Config`'s
 * defaults, as `transformers` does).
 *
 * @param json The parsed `config.json`.
 * @param path The file, for messages.
 * @returns The model shape and the config's `eos_token_id` (null if it has none).
 * @throws {SyntaxError} `Cannot load Hugging Face config "PATH": FIELD …` for another
 *   `model_type`, a field of the wrong type or out of range, an option our GPT does not compute
 *   (`n_inner` other than 4·`n_embd`, cross-attention, …), or `n_head` not dividing `n_embd`.
 *
 * @example
 * ```ts
 * import { hfGpt2ModelConfig } from "./hf_gpt2_read.ts";
 * const { model } = hfGpt2ModelConfig(
 *   { model_type: "gpt2", n_layer: 2, n_embd: 64, n_head: 4, n_positions: 32, vocab_size: 300 },
 *   "config.json",
 * );
 * console.assert(model.layers === 2 && model.contextLength === 32 && model.head === undefined);
 * try {
 *   hfGpt2ModelConfig({ model_type: "llama" }, "config.json");
 * } catch (error) {
 *   console.assert((error as Error).message ===
 *     'Cannot load Hugging Face config "config.json": model_type "llama" is not supported (only gpt2)');
 * }
 * ```
 */
export function hfGpt2ModelConfig(
  json: unknown,
  path: string,
): { model: GPTConfig; eosId: number | null } {
  const fail = (detail: string) =>
    new SyntaxError(`Cannot load Hugging Face config "${path}": ${detail}`);
  const type = (json as { model_type?: unknown } | null)?.model_type;
  if (type !== "gpt2") {
    throw fail(`model_type ${JSON.stringify(type)} is not supported (only gpt2)`);
  }
  const c = checkJson(gpt2ConfigSchema, json, "Hugging Face config", path);
  if (c.n_inner !== null && c.n_inner !== 4 * c.n_embd) {
    throw fail(`n_inner must be null or 4 × n_embd (${4 * c.n_embd}), got ${c.n_inner}`);
  }
  if (c.n_embd % c.n_head !== 0) {
    throw fail(`n_embd must be divisible by n_head (${c.n_head}), got ${c.n_embd}`);
  }
  const model: GPTConfig = {
    vocabSize: c.vocab_size,
    // n_ctx is the older name of the same length; transformers reads n_positions (default 1024).
    contextLength: c.n_positions ?? c.n_ctx ?? 1024,
    layers: c.n_layer,
    heads: c.n_head,
    dModel: c.n_embd,
    layerNormEps: c.layer_norm_epsilon,
    // nanoGPT's default; it only matters to a run that goes on training the model.
    decayEmbeddings: true,
    // gelu_pytorch_tanh is the same tanh approximation as gelu_new, computed by torch.
    ...(c.activation_function === "gelu" ? { activation: "gelu" as const } : {}),
    ...(c.tie_word_embeddings ? {} : { head: "untied" as const }),
  };
  return { model, eosId: c.eos_token_id ?? null };
}

/**
 * Reads a Hugging Face GPT-2 folder (see the module doc).
 *
 * @param dir The folder (`config.json`, the weights, `tokenizer.json`).
 * @returns The model, its parameters by our names and its tokenizer's identity.
 * @throws {SyntaxError} For `config.json`, the index or a safetensors file that is malformed or
 *   unsupported; the message names the file and the field.
 * @throws {RangeError} `Cannot read Hugging Face model "FILE": tensor "NAME" …` for a missing,
 *   unexpected or misshapen tensor, another dtype, or a non-finite value.
 * @throws {Deno.errors.NotFound} When a file is missing; the message names it.
 *
 * @example
 * ```ts
 * import { readHfGpt2 } from "./hf_gpt2_read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, '{"model_type": "gpt2"}');
 * const error = await readHfGpt2(dir).then(() => "", (e) => String(e));
 * console.assert(error.includes("no model.safetensors or model.safetensors.index.json"));
 * ```
 */
export async function readHfGpt2(dir: string): Promise<HfGpt2Model> {
  const configPath = join(dir, "config.json");
  const text = await readText(configPath);
  const { model, eosId } = hfGpt2ModelConfig(
    parseJsonText(text, "Hugging Face config", configPath),
    configPath,
  );
  const { tensors, fileOf, files, source } = await readWeights(dir);
  const values = gpt2Values(model, tensors, fileOf, source);
  const tokenizerPath = join(dir, "tokenizer.json");
  const tokenizer = await loadTokenizer(tokenizerPath);
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new RangeError(
      `Cannot read Hugging Face model "${dir}": "${tokenizerPath}" has ${tokenizer.vocabSize} ` +
        `tokens, more than vocab_size ${model.vocabSize} in "${configPath}"`,
    );
  }
  // The config's eos_token_id when it names a token, else the tokenizer's end-of-text token.
  const eotId = eosId !== null && eosId < tokenizer.vocabSize
    ? eosId
    : endOfTextId(tokenizer, tokenizerPath);
  return {
    dir,
    model,
    values,
    tokenizer: { fingerprint: tokenizer.fingerprint, vocabSize: tokenizer.vocabSize, eotId },
    files,
  };
}

/**
 * Every tensor of the folder's weights by state-dict key, the file each came from, the files, and
 * what lists them all (`model.safetensors` itself, or the index).
 */
async function readWeights(dir: string): Promise<{
  tensors: Map<string, HostTensor>;
  fileOf: Map<string, string>;
  files: string[];
  source: string;
}> {
  const single = join(dir, HF_WEIGHTS_FILE), indexPath = join(dir, HF_INDEX_FILE);
  let files: string[];
  let weightMap: Record<string, string> | null = null;
  if (await isFile(single)) files = [HF_WEIGHTS_FILE];
  else if (await isFile(indexPath)) {
    const index = checkJson(
      z.looseObject({ weight_map: z.record(z.string(), z.string().min(1)) }),
      parseJsonText(await readText(indexPath), "safetensors index", indexPath),
      "safetensors index",
      indexPath,
    );
    weightMap = index.weight_map;
    files = [...new Set(Object.values(weightMap))].sort();
  } else {
    throw new Deno.errors.NotFound(
      `Cannot read Hugging Face model "${dir}": no ${HF_WEIGHTS_FILE} or ${HF_INDEX_FILE} ` +
        `(only safetensors weights are read; save with safe_serialization=True)`,
    );
  }
  const tensors = new Map<string, HostTensor>(), fileOf = new Map<string, string>();
  for (const file of files) {
    const path = join(dir, file);
    if (!(await isFile(path))) {
      throw new Deno.errors.NotFound(
        `Cannot read Hugging Face model "${indexPath}": its weight_map names "${file}", which is missing`,
      );
    }
    for (const [name, t] of Object.entries((await loadSafetensors(path)).tensors)) {
      if (weightMap !== null && !(Object.hasOwn(weightMap, name) && weightMap[name] === file)) {
        throw new RangeError(
          `Cannot read Hugging Face model "${path}": tensor "${name}" is not in the weight_map ` +
            `of "${indexPath}" under this file`,
        );
      }
      tensors.set(name, t);
      fileOf.set(name, path);
    }
  }
  if (weightMap !== null) {
    const absent = Object.keys(weightMap).find((name) => !tensors.has(name));
    if (absent !== undefined) {
      throw new RangeError(
        `Cannot read Hugging Face model "${join(dir, weightMap[absent]!)}": tensor "${absent}" ` +
          `listed in "${indexPath}" is missing`,
      );
    }
  }
  return { tensors, fileOf, files, source: weightMap === null ? single : indexPath };
}

/** Buffers of older GPT-2 saves (the causal mask and its fill value), not parameters. */
const BUFFER = /(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/;

/**
 * Our parameters from the state-dict tensors: each key with its `transformer.` prefix restored,
 * every parameter of `model` present exactly once with its shape, nothing else.
 */
function gpt2Values(
  model: GPTConfig,
  tensors: ReadonlyMap<string, HostTensor>,
  fileOf: ReadonlyMap<string, string>,
  source: string,
): Map<string, Float32Array> {
  const ours = hfGpt2Names(model);
  const found = new Map<string, string>(); // HF name → the key it was stored under
  const fail = (key: string, detail: string) =>
    new RangeError(
      `Cannot read Hugging Face model "${fileOf.get(key)}": tensor "${key}" ${detail}`,
    );
  for (const key of tensors.keys()) {
    if (BUFFER.test(key)) continue;
    const name = key.startsWith("transformer.") || key === "lm_head.weight"
      ? key
      : `transformer.${key}`;
    if (!ours.has(name)) {
      // A tied model may still carry lm_head.weight: accepted below when it is wte's copy.
      if (key === "lm_head.weight" && model.head !== "untied") continue;
      throw fail(key, `is not a parameter of this GPT-2 (${describeModel(model)})`);
    }
    if (found.has(name)) throw fail(key, `duplicates "${found.get(name)}"`);
    found.set(name, key);
  }
  const shapes = new Map(gptParamSpecs(model).map((s) => [s.name, s.shape]));
  const values = new Map<string, Float32Array>();
  for (const [name, our] of ours) {
    const key = found.get(name);
    if (key === undefined) {
      throw new RangeError(
        `Cannot read Hugging Face model "${source}": tensor "${name}" is missing` +
          (our === "lm_head" ? " (config.json sets tie_word_embeddings false)" : ""),
      );
    }
    values.set(our, checkedValues(tensors.get(key)!, shapes.get(our)!, (d) => fail(key, d)));
  }
  const head = tensors.get("lm_head.weight");
  if (head && model.head !== "untied") {
    const copy = checkedValues(
      head,
      [model.vocabSize, model.dModel],
      (d) => fail("lm_head.weight", d),
    );
    const wte = values.get("wte")!;
    if (copy.some((v, i) => v !== wte[i])) {
      throw fail(
        "lm_head.weight",
        "differs from the token embedding while config.json ties them (tie_word_embeddings true)",
      );
    }
  }
  return values;
}

/** A tensor's values as float32, checked for dtype, shape and finite values. */
function checkedValues(
  t: HostTensor,
  shape: readonly number[],
  fail: (detail: string) => Error,
): Float32Array {
  const values = float32Values(t);
  if (values === null) {
    throw fail(`is ${t.dtype}, not a supported dtype (F32, F16 or BF16)`);
  }
  if (t.dims.join() !== shape.join()) {
    throw fail(`has shape [${t.dims.join(", ")}], config.json implies [${shape.join(", ")}]`);
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw fail(`holds ${values[bad]} at index ${bad}`);
  return values;
}

function describeModel(m: GPTConfig): string {
  return `n_layer ${m.layers}, ${m.head === "untied" ? "untied" : "tied"} head`;
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read Hugging Face model: no "${path}"`);
    }
    throw error;
  }
}
