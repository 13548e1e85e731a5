/**
 * What every experiment's parameters share: a scale preset with explicit overrides on top, the
 * token shards and their tokenizer, and a model (a `GPT_CONFIGS` preset with optional overrides)
 * checked against the sequence length.
 *
 * @module
 */
import { resolve } from "node:path";
import { InvalidRequest } from "../core/job/mod.ts";
import { openTokens, type TokensManifest } from "../core/tokenizer/mod.ts";
import { findTokenizer, resolveModel } from "../pipeline/training/mod.ts";
import type { GPTConfig } from "../models/gpt.ts";

/** Flags that override a preset's fields (undefined: keep the preset's). */
export type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * A preset with the defined overrides applied.
 *
 * @param preset The scale's values.
 * @param overrides Explicit flags; `undefined` ones are ignored.
 * @returns The merged values.
 *
 * @example
 * ```ts
 * import { withOverrides } from "./scale_preset.ts";
 * const p = withOverrides({ steps: 100, lr: 1e-3 }, { steps: 40, lr: undefined });
 * console.assert(p.steps === 40 && p.lr === 1e-3);
 * ```
 */
export function withOverrides<T extends object>(preset: T, overrides: Overrides<T>): T {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...preset, ...defined } as T;
}

/** A model: a `GPT_CONFIGS` preset (or JSON file) and optional overrides. */
export interface ModelChoice {
  config: string;
  layers?: number | undefined;
  dModel?: number | undefined;
  heads?: number | undefined;
  contextLength?: number | undefined;
}

/**
 * Resolves a model for the shards' vocabulary and checks that `seqLen` fits its context.
 *
 * @param m The preset and overrides.
 * @param vocabSize The shards' vocabulary size.
 * @param seqLen Tokens per row the experiment trains on.
 * @returns The preset name (`custom` when overridden) and the config.
 * @throws {InvalidRequest} If the config is invalid, or `seqLen` exceeds its context (option
 *   `seqLen`).
 */
export async function experimentModel(
  m: ModelChoice,
  vocabSize: number,
  seqLen: number,
): Promise<{ name: string; model: GPTConfig }> {
  const { name, model } = await resolveModel(m.config, {
    layers: m.layers,
    dModel: m.dModel,
    heads: m.heads,
    contextLength: m.contextLength,
  }, vocabSize);
  if (seqLen > model.contextLength) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${
          s.option("seqLen")
        } ${seqLen}: it exceeds the context length ${model.contextLength}`,
      { option: "seqLen" },
    );
  }
  return { name, model };
}

/**
 * The token shards' manifest and their tokenizer (both absolute paths).
 *
 * @param data The token shard directory.
 * @param tokenizer An explicit tokenizer file (default: the manifest's).
 * @throws {Error} If the shards or the tokenizer cannot be read.
 */
export async function experimentData(
  data: string,
  tokenizer?: string,
): Promise<{ data: string; manifest: TokensManifest; tokenizerPath: string }> {
  const manifest = await openTokens(data);
  const tokenizerPath = await findTokenizer(data, manifest, tokenizer);
  return { data: resolve(data), manifest, tokenizerPath: resolve(tokenizerPath) };
}
