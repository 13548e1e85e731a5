/**
 * Compression of a tokenizer on a balanced dataset: UTF-8 bytes per token, per class.
 *
 * @module
 */
import { openDataset } from "../data/dataset.ts";
import { readDocuments } from "../data/documents.ts";
import { utf8Length } from "../data/measure.ts";
import type { TextTokenizer } from "./text_tokenizer.ts";

/** Compression figures of one class. */
export interface ClassCompression {
  class: string;
  documents: number;
  /** UTF-8 bytes of the text. */
  bytes: number;
  tokens: number;
  bytesPerToken: number;
}

/**
 * Encodes one split of a balanced dataset and reports bytes per token for each class.
 *
 * @param tokenizer The tokenizer to measure.
 * @param dir Balanced dataset directory.
 * @param split Split to read (`val` is a fair choice: the tokenizer was trained on `train`).
 * @returns One row per class, in the dataset's class order.
 * @throws {RangeError} If the dataset has no such split.
 *
 * @example
 * ```ts
 * import { balance } from "../data/mod.ts";
 * import { measureCompression, Tokenizer, trainTokenizer } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.txt`, "the cat\n\nthe hat\n");
 * await Deno.mkdir(`${root}/data`);
 * await balance(`${root}/data`, {
 *   inputs: new Map([["x", [`${root}/a.txt`]]]), by: "chars", target: "min", maxDiffPercent: 1,
 *   minChars: 0, seed: 1, split: [1, 0, 0], command: [],
 * });
 * const { model } = await trainTokenizer(["the cat the hat"], { vocabSize: 262, minFrequency: 1, threads: 1 });
 * const [row] = await measureCompression(new Tokenizer(model), `${root}/data`, "train");
 * console.assert(row!.class === "x" && row!.bytes === 14 && row!.bytesPerToken > 1);
 * ```
 */
export async function measureCompression(
  tokenizer: TextTokenizer,
  dir: string,
  split: string,
): Promise<ClassCompression[]> {
  const data = await openDataset(dir);
  if (!data.splits.includes(split)) {
    throw new RangeError(
      `Dataset "${dir}" has no split "${split}" (it has ${data.splits.join(", ")})`,
    );
  }
  const rows: ClassCompression[] = [];
  for (const cls of data.classes) {
    let documents = 0, bytes = 0, tokens = 0;
    for await (const doc of readDocuments(data.file(split, cls))) {
      documents++;
      bytes += utf8Length(doc.text);
      tokens += tokenizer.encode(doc.text).length;
    }
    rows.push({ class: cls, documents, bytes, tokens, bytesPerToken: tokens ? bytes / tokens : 0 });
  }
  return rows;
}
