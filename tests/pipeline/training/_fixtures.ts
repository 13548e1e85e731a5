/**
 * Token shards for trainer tests, made without training a tokenizer: a byte-level tokenizer
 * (256 byte tokens + `<|endoftext|>` 256 + `<|pad|>` 257, no merges) encodes the first
 * characters of each fixture corpus into the shard format `moe tokenizer encode` writes.
 *
 * @module
 */
import { join } from "node:path";
import { readDocuments } from "../../../core/data/mod.ts";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { type BpeModel, saveTokenizer, ShardWriter } from "../../../core/tokenizer/mod.ts";
import type { TrainOptions } from "../../../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../../../models/gpt.ts";

const fixtureRoot = new URL("../../../fixtures/corpus/", import.meta.url).pathname;

/** The byte-level model: vocab 258. */
export const BYTE_MODEL: BpeModel = {
  byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
  merges: new Int32Array(),
  mergeIds: new Int32Array(),
  specials: [{ content: "<|endoftext|>", id: 256 }, { content: "<|pad|>", id: 257 }],
};

/** Options of {@linkcode byteShards}. */
export interface ByteShardOptions {
  classes?: string[];
  /** UTF-8 bytes per class in the train split (val gets a quarter). */
  trainBytes?: number;
  /** Vocab size written in the shard headers (to test mismatches). */
  vocabSize?: number;
  /** Documents of each class to skip first (disjoint data for a teacher and a student). */
  skip?: number;
}

/**
 * Writes `dir/{train,val}/CLASS.bin`, `dir/manifest.json` and `dir/tokenizer.json`.
 *
 * @returns The shard directory and the tokenizer path.
 */
export async function byteShards(
  options: ByteShardOptions = {},
): Promise<{ dir: string; tokenizer: string }> {
  const classes = options.classes ?? ["en", "fr", "de", "py"];
  const trainBytes = options.trainBytes ?? 40_000;
  const vocabSize = options.vocabSize ?? 258;
  const dir = await Deno.makeTempDir({ prefix: "moe-train-" });
  const tokenizer = join(dir, "tokenizer.json");
  const fingerprint = await saveTokenizer(tokenizer, BYTE_MODEL);
  const shards: Record<string, unknown> = {};
  for (const cls of classes) {
    const docs: Uint8Array[] = [];
    let bytes = 0, skip = options.skip ?? 0;
    for await (const doc of readDocuments(join(fixtureRoot, `${cls}.jsonl.gz`))) {
      if (skip-- > 0) continue;
      const b = new TextEncoder().encode(doc.text);
      docs.push(b);
      bytes += b.length;
      if (bytes > trainBytes * 1.25) break;
    }
    const valFrom = docs.length - Math.max(1, Math.floor(docs.length / 5));
    for (
      const [split, part] of [["train", docs.slice(0, valFrom)], [
        "val",
        docs.slice(valFrom),
      ]] as const
    ) {
      await Deno.mkdir(join(dir, split), { recursive: true });
      const w = await ShardWriter.create(join(dir, split, `${cls}.bin`), {
        vocabSize,
        eotId: 256,
        fingerprint,
      });
      for (const d of part) await w.writeDocument(d);
      const h = await w.close();
      shards[`${split}/${cls}.bin`] = {
        class: cls,
        split,
        documents: h.documents,
        tokens: h.tokens,
        bytes: h.tokens,
      };
    }
  }
  const manifest = {
    format: "moe-token-shards",
    version: 1,
    tokenizer: { path: tokenizer, fingerprint, vocabSize, eotId: 256, padId: 257 },
    dataset: { dir: "fixtures/corpus" },
    dtype: "uint16",
    classes,
    splits: ["train", "val"],
    shards,
  };
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return { dir, tokenizer };
}

/** A tiny GPT's run over byte shards: batch 8 × 64, cosine from 3e-3, evaluation at the end. */
export function trainOptions(
  data: string,
  steps: number,
  over: Partial<TrainOptions> = {},
): TrainOptions {
  return {
    data,
    modelName: "tiny",
    model: { ...GPT_CONFIGS.tiny, vocabSize: 258 },
    batch: 8,
    accumulate: 1,
    seqLen: 64,
    lr: { lr: 3e-3, minLr: 3e-4, warmup: 10, steps, decay: "cosine" },
    adamw: ADAMW_DEFAULTS,
    schedule: "mixed",
    order: ["en", "fr", "de", "py"],
    evalEvery: 0,
    evalRows: 32,
    checkpointEvery: 0,
    keep: 1,
    seed: 1,
    ...over,
  };
}

/** The records of a run's `metrics.jsonl`. */
export async function metrics(out: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
}

/** A metrics record without its wall-clock fields (equal across identical runs otherwise). */
export function withoutTiming(m: Record<string, unknown>): Record<string, unknown> {
  const { tokens_per_s: _, ...rest } = m;
  return rest;
}
