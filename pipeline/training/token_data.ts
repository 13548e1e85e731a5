/**
 * The token shards a run trains on: `DIR/{train,val}/CLASS.bin` plus `DIR/manifest.json`
 * (written by `moe tokenizer encode`), opened once and checked against the model before any
 * step runs.
 *
 * @module
 */
import { join } from "node:path";
import {
  openShard,
  openTokens,
  type TokenShard,
  type TokensManifest,
} from "../../core/tokenizer/mod.ts";

/** Opened train and validation shards of every class. */
export interface TokenData {
  dir: string;
  manifest: TokensManifest;
  classes: string[];
  train: Map<string, TokenShard>;
  val: Map<string, TokenShard>;
  /** Close every shard. */
  close(): void;
}

/**
 * Opens the train and val shards of `dir` and checks them against the model: same vocabulary
 * size, and every shard long enough for one window of `seqLen + 1` tokens.
 *
 * @param dir Token shard directory.
 * @param vocabSize The model's vocabulary size.
 * @param seqLen Tokens per training row.
 * @returns The opened shards.
 * @throws {SyntaxError} If the manifest or a shard is malformed.
 * @throws {RangeError} If a shard's vocabulary size differs from the model's, a class lacks a
 *   split, or a shard is shorter than one row; the message names the file.
 *
 * @example
 * ```ts
 * import { openTokenData } from "./token_data.ts";
 * try {
 *   await openTokenData(await Deno.makeTempDir(), 256, 8);
 * } catch (error) {
 *   console.assert(String(error).includes("manifest.json"));
 * }
 * ```
 */
export async function openTokenData(
  dir: string,
  vocabSize: number,
  seqLen: number,
): Promise<TokenData> {
  const manifest = await openTokens(dir);
  const train = new Map<string, TokenShard>(), val = new Map<string, TokenShard>();
  const close = () => [...train.values(), ...val.values()].forEach((s) => s.close());
  try {
    for (const cls of manifest.classes) {
      for (const [split, into] of [["train", train], ["val", val]] as const) {
        const path = join(dir, split, `${cls}.bin`);
        const shard = await openShard(path).catch((error) => {
          if (error instanceof Deno.errors.NotFound) {
            throw new RangeError(`Cannot train on "${dir}": class "${cls}" has no ${split} shard`);
          }
          throw error;
        });
        into.set(cls, shard);
        if (shard.header.vocabSize !== vocabSize) {
          throw new RangeError(
            `Cannot train on "${path}": its vocab size ${shard.header.vocabSize} differs from the model's ${vocabSize}`,
          );
        }
        if (shard.header.tokens < seqLen + 1) {
          throw new RangeError(
            `Cannot train on "${path}": ${shard.header.tokens} tokens are fewer than one row of ${
              seqLen + 1
            }`,
          );
        }
      }
    }
  } catch (error) {
    close();
    throw error;
  }
  return { dir, manifest, classes: manifest.classes, train, val, close };
}
