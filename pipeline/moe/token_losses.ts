/**
 * Per-token losses of loss graphs on evaluation windows: the first windows of each class's
 * shard in batches, and one graph run over them keeping every position's loss, so the rows of
 * an evaluation can pick, sequence by sequence, whose losses count.
 *
 * @module
 */
import { join } from "node:path";
import type { Backend, HostTensor } from "../../core/runtime/mod.ts";
import { openShard, type TokenShard } from "../../core/tokenizer/mod.ts";
import { evalBatches } from "../training/mod.ts";

/** Per-token losses of one model on one class: `[rows, T]`, 0 where not counted. */
export type Losses = Float32Array;

/** The windows of one class (or one text) in batches, and how many tokens count. */
export interface ClassData {
  /** `[B, T]` tokens and targets (−1: not counted); `count`: the rows it fills × T. */
  batches: { tokens: BigInt64Array; targets: BigInt64Array; count: number }[];
  /** Windows. */
  rows: number;
  /** Counted targets. */
  tokens: number;
}

/** Which token windows an evaluation reads. */
export interface EvalSample {
  /** Token shard directory (`moe tokenizer encode`). */
  data: string;
  split: string;
  /** Sequences per class. */
  rows: number;
  /** Rows per graph run. */
  batch: number;
}

/** The first `rows` windows of each class's shard of `split`, in batches. */
export async function readClasses(
  options: EvalSample,
  classes: readonly string[],
  seqLen: number,
): Promise<Map<string, ClassData>> {
  const out = new Map<string, ClassData>();
  for (const cls of classes) {
    const path = join(options.data, options.split, `${cls}.bin`);
    let shard: TokenShard;
    try {
      shard = await openShard(path);
    } catch (error) {
      throw new Error(
        `Cannot evaluate class "${cls}": cannot open "${path}" (${(error as Error).message})`,
      );
    }
    try {
      const batches = await evalBatches(shard, options.batch, seqLen, options.rows);
      const tokens = batches.reduce((s, b) => s + b.count, 0);
      if (tokens === 0) {
        throw new Error(
          `Cannot evaluate class "${cls}": "${path}" is shorter than one sequence of ${
            seqLen + 1
          } tokens`,
        );
      }
      out.set(cls, { batches, rows: tokens / seqLen, tokens });
    } finally {
      shard.close();
    }
  }
  return out;
}

/** The `weights [B, S]` input of a row-mixture graph for batch `b` of class `cls`. */
export type RowWeights = (cls: string, b: number) => Float32Array;

/**
 * Per-token losses of one loss graph (`tokens`, `targets` [, `weights`] → `nll`) on every
 * class (or any windows keyed by name).
 *
 * @param model A loss graph (e.g. `buildTokenLoss`).
 * @param data Windows in batches of `geometry`.
 * @param rowWeights The `weights` input of a row-mixture graph, per batch.
 * @returns `[rows, T]` losses per key, 0 where not counted.
 */
export async function tokenLosses(
  backend: Backend,
  model: Uint8Array,
  data: ReadonlyMap<string, ClassData>,
  geometry: { batch: number; seqLen: number },
  rowWeights?: RowWeights,
): Promise<Map<string, Losses>> {
  const { batch, seqLen } = geometry;
  const session = await backend.createSession(model);
  const int64 = (d: BigInt64Array): HostTensor => ({
    dtype: "int64",
    dims: [batch, seqLen],
    data: d,
  });
  const out = new Map<string, Losses>();
  try {
    for (const [cls, d] of data) {
      const all = new Float32Array(d.rows * seqLen);
      let at = 0;
      for (const [i, b] of d.batches.entries()) {
        const feeds = {
          tokens: session.wrap(int64(b.tokens)),
          targets: session.wrap(int64(b.targets)),
        };
        if (rowWeights) {
          const w = rowWeights(cls, i);
          Object.assign(feeds, {
            weights: session.wrap({ dtype: "float32", dims: [batch, w.length / batch], data: w }),
          });
        }
        const r = await session.run(feeds);
        const nll = (await session.download(r.nll!)).data as Float32Array;
        all.set(nll.subarray(0, b.count), at);
        at += b.count;
      }
      out.set(cls, all);
    }
  } finally {
    await session.dispose();
  }
  return out;
}
