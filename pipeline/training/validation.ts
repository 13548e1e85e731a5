/**
 * Per-class validation of a model during training: the mean next-token loss and perplexity of
 * each class on its first validation windows.
 *
 * @module
 */
import { evalBatches } from "./batches.ts";
import type { TokenData } from "./token_data.ts";

/** Per-class validation loss and perplexity. */
export type ValReport = Record<string, { loss: number; ppl: number }>;

/**
 * Mean next-token loss and perplexity of each class of `o.order` on its validation windows (the
 * first `o.evalRows`, in order; the mean is over counted tokens, padding excluded).
 *
 * @param data The opened shards.
 * @param o Classes, rows per batch, tokens per row, validation rows.
 * @param loss The model's mean loss on one batch of a class.
 */
export async function validate(
  data: TokenData,
  o: { order: string[]; batch: number; seqLen: number; evalRows: number },
  loss: (cls: string, batch: { tokens: BigInt64Array; targets: BigInt64Array }) => Promise<number>,
): Promise<ValReport> {
  const report: ValReport = {};
  for (const c of o.order) {
    let sum = 0, count = 0;
    for (const b of await evalBatches(data.val.get(c)!, o.batch, o.seqLen, o.evalRows)) {
      sum += (await loss(c, b)) * b.count;
      count += b.count;
    }
    const mean = sum / Math.max(1, count);
    report[c] = { loss: mean, ppl: Math.exp(mean) };
  }
  return report;
}
