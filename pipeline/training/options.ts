/**
 * Turning a model name or config file plus overrides into a {@linkcode GPTConfig}, and finding
 * the tokenizer a shard directory was encoded with.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { InvalidRequest, SpelledError } from "../../core/job/mod.ts";
import { sha256Hex, type TokensManifest } from "../../core/tokenizer/mod.ts";
import { GPT_CONFIGS, type GPTConfig, gptConfig } from "../../models/gpt.ts";
import { parseModelConfigFile } from "./config_schema.ts";

/** Overrides of a preset (`--layers`, `--d-model`, `--heads`, `--ctx`, `--vocab-size`). */
export type ModelOverrides = {
  [K in "layers" | "dModel" | "heads" | "contextLength" | "vocabSize"]?: number | undefined;
};

/**
 * The model config of a run: a preset name or a JSON file of {@linkcode GPTConfig} fields, then
 * the overrides, then the vocabulary size of the shards unless one was given.
 *
 * @param config A preset name (`tiny`, `bench`, `gpt2-small`, `gpt2-medium`) or a `.json` path.
 * @param overrides Flag overrides.
 * @param shardVocab The shards' vocabulary size (the default vocab).
 * @returns The preset's name (or `custom`) and the config.
 * @throws {InvalidRequest} If the name is unknown or the file missing (option `config`), or the
 *   result inconsistent.
 * @throws {SyntaxError} If the file is not JSON or a field is of the wrong type, out of range or
 *   unknown (`Cannot load model config "cfg.json": layers must be an integer ≥ 1, got "two"`).
 *
 * @example
 * ```ts
 * import { resolveModel } from "./options.ts";
 * const { model } = await resolveModel("tiny", { layers: 3 }, 32000);
 * console.assert(model.layers === 3 && model.vocabSize === 32000);
 * ```
 */
export async function resolveModel(
  config: string,
  overrides: ModelOverrides,
  shardVocab: number,
): Promise<{ name: string; model: GPTConfig }> {
  let base: Partial<GPTConfig>;
  let name = config;
  if (config in GPT_CONFIGS) {
    base = { ...GPT_CONFIGS[config as keyof typeof GPT_CONFIGS], vocabSize: shardVocab };
  } else if (config.endsWith(".json")) {
    const text = await Deno.readTextFile(config).catch(() => {
      throw new InvalidRequest((s) => `Invalid ${s.option("config")} "${config}": no such file`, {
        option: "config",
      });
    });
    base = { vocabSize: shardVocab, ...parseModelConfigFile(text, config) };
    name = "custom";
  } else {
    const names = Object.keys(GPT_CONFIGS).join(", ");
    throw new InvalidRequest(
      (s) => `Invalid ${s.option("config")} "${config}": expected ${names} or a .json file`,
      { option: "config" },
    );
  }
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([, v]) => v !== undefined),
  ) as Partial<GPTConfig>;
  if (Object.keys(defined).some((k) => k !== "vocabSize")) name = "custom";
  try {
    return { name, model: gptConfig({ ...base, ...defined }) };
  } catch (error) {
    throw new InvalidRequest((error as Error).message, { cause: error });
  }
}

/**
 * The tokenizer file of a shard directory: `explicit` if given, else the manifest's path (as
 * written, then relative to the shard directory); its sha256 must match the manifest.
 *
 * @param dataDir The shard directory.
 * @param manifest Its manifest.
 * @param explicit `--tokenizer`, if given.
 * @returns The path.
 * @throws {Error} If no file is found or its fingerprint differs; the message says what to pass.
 */
export async function findTokenizer(
  dataDir: string,
  manifest: TokensManifest,
  explicit?: string,
): Promise<string> {
  const recorded = manifest.tokenizer.path;
  const candidates = explicit !== undefined
    ? [explicit]
    : [recorded, ...(isAbsolute(recorded) ? [] : [join(dataDir, recorded)])];
  for (const path of candidates) {
    const bytes = await Deno.readFile(path).catch(() => null);
    if (bytes === null) continue;
    if (await sha256Hex(bytes) !== manifest.tokenizer.fingerprint) {
      throw new Error(
        `Cannot use tokenizer "${path}": it is not the one the shards in "${dataDir}" were encoded with (sha256 differs)`,
      );
    }
    return path;
  }
  throw new SpelledError((s) =>
    `Cannot find the tokenizer of "${dataDir}": "${candidates[0]}" does not exist (pass ${
      s.option("tokenizer")
    })`
  );
}
