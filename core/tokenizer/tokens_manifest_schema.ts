/**
 * The `manifest.json` of a token shard directory, as a type and as the schema checked whenever one
 * is opened (`moe train`, `distill`, `train-moe`, `eval`): the tokenizer's identity, the id type
 * and one entry per shard, each with its counts and, in manifests that record it, its sha256.
 *
 * @module
 */
import { z } from "zod";
import { integer, name, type SameType, sha256Hex } from "../schema/mod.ts";

const count = integer(0);

/** The manifest format version of a token shard directory. */
export const TOKENS_MANIFEST_VERSION = 1;

/** One shard in the manifest. */
export interface ShardEntry {
  class: string;
  split: string;
  documents: number;
  tokens: number;
  /** UTF-8 bytes of the text encoded (bytes / tokens = compression). */
  bytes: number;
  /** sha256 of the shard file (absent in manifests written before it was recorded). */
  sha256?: string;
}

/** `manifest.json` of a token shard directory. */
export interface TokensManifest {
  format: "moe-token-shards";
  version: number;
  tokenizer: {
    path: string;
    fingerprint: string;
    vocabSize: number;
    eotId: number;
    padId: number | null;
  };
  dataset: { dir: string };
  dtype: "uint16" | "uint32";
  classes: string[];
  splits: string[];
  /** Keyed by relative path, e.g. `train/en.bin`. */
  shards: Record<string, ShardEntry>;
}

/**
 * The schema of a token manifest; format and version are checked before it, for their message.
 *
 * @example
 * ```ts
 * import { tokensManifestSchema } from "./tokens_manifest_schema.ts";
 * const manifest = {
 *   format: "moe-token-shards", version: 1,
 *   tokenizer: { path: "tok.json", fingerprint: "", vocabSize: 300, eotId: 299, padId: null },
 *   dataset: { dir: "data" }, dtype: "uint16", classes: ["en"], splits: ["train"],
 *   shards: { "train/en.bin": { class: "en", split: "train", documents: 1, tokens: 5, bytes: 9 } },
 * };
 * console.assert(tokensManifestSchema.safeParse(manifest).success);
 * console.assert(!tokensManifestSchema.safeParse({ ...manifest, dtype: "int8" }).success);
 * ```
 */
export const tokensManifestSchema = z.object({
  format: z.literal("moe-token-shards"),
  version: z.number(),
  tokenizer: z.object({
    path: z.string(),
    fingerprint: z.string(),
    vocabSize: integer(2),
    eotId: count,
    padId: count.nullable(),
  }).refine((t) => t.eotId < t.vocabSize, {
    path: ["eotId"],
    error: "must be below tokenizer.vocabSize",
  }),
  dataset: z.object({ dir: z.string() }),
  dtype: z.enum(["uint16", "uint32"]),
  classes: z.array(name).min(1, { error: "must list at least 1 class" }),
  splits: z.array(name).min(1, { error: "must list at least 1 split" }),
  shards: z.record(
    z.string(),
    z.object({
      class: name,
      split: name,
      documents: count,
      tokens: count,
      bytes: count,
      sha256: sha256Hex.exactOptional(),
    }),
  ),
});

// Compile-time check that the schema and the TokensManifest interface describe the same fields.
const _sameFields: SameType<z.output<typeof tokensManifestSchema>, TokensManifest> = true;
