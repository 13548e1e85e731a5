/**
 * Token shards of pseudo-random ids for the training benchmarks (throughput does not depend on
 * the values): one class `x` (or the classes given), train and val, and the manifest `moe
 * tokenizer encode` writes.
 *
 * @module
 */
import { join } from "node:path";
import { ShardWriter } from "../core/tokenizer/mod.ts";
import { ADAMW_DEFAULTS } from "../core/optim/mod.ts";
import type { Schedule, TrainOptions } from "../pipeline/training/mod.ts";
import type { GPTConfig } from "../models/gpt.ts";

/** A real tokenizer for the shards' header and manifest (a teacher's, whose fingerprint is checked). */
export interface SyntheticTokenizer {
  path: string;
  fingerprint: string;
}

/**
 * Writes `dir/{train,val}/<class>.bin` with `tokens` ids below 8000 and `dir/manifest.json`.
 *
 * @param dir The shard directory (created).
 * @param vocabSize Vocabulary size in the headers; `vocabSize − 1` is `<|endoftext|>`.
 * @param tokens Tokens per split and class.
 * @param options The classes (default `x`) and the tokenizer to name (default: none, fingerprint "").
 */
export async function syntheticShards(
  dir: string,
  vocabSize: number,
  tokens: number,
  options: { classes?: string[]; tokenizer?: SyntheticTokenizer } = {},
): Promise<void> {
  let s = 1;
  const ids = Array.from({ length: tokens }, () => (s = (s * 1103515245 + 12345) >>> 0) % 8000);
  const eotId = vocabSize - 1;
  const classes = options.classes ?? ["x"];
  const fingerprint = options.tokenizer?.fingerprint ?? "";
  for (const split of ["train", "val"]) {
    await Deno.mkdir(join(dir, split), { recursive: true });
    for (const cls of classes) {
      const w = await ShardWriter.create(join(dir, split, `${cls}.bin`), {
        vocabSize,
        eotId,
        fingerprint,
      });
      await w.writeDocument(ids);
      await w.close();
    }
  }
  const manifest = {
    format: "moe-token-shards",
    version: 1,
    tokenizer: {
      path: options.tokenizer?.path ?? "none",
      fingerprint,
      vocabSize,
      eotId,
      padId: null,
    },
    dataset: { dir: "synthetic" },
    dtype: "uint16",
    classes,
    splits: ["train", "val"],
    shards: {},
  };
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest));
}

/**
 * The benchmarks' run over {@linkcode syntheticShards}: `steps` steps of `batch` full-context rows,
 * no evaluation and no checkpoint before the end, so only the steps are timed.
 */
export function benchTrainOptions(
  data: string,
  model: GPTConfig,
  batch: number,
  steps: number,
  schedule: Schedule,
): TrainOptions {
  return {
    data,
    modelName: "bench",
    model,
    batch,
    accumulate: 1,
    seqLen: model.contextLength,
    lr: { lr: 6e-4, minLr: 6e-5, warmup: 2, steps, decay: "cosine" },
    adamw: ADAMW_DEFAULTS,
    schedule,
    order: ["x"],
    evalEvery: 0,
    evalRows: 1,
    checkpointEvery: 0,
    keep: 1,
    seed: 1,
  };
}
