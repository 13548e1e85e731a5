/**
 * Training a tokenizer from a corpus on disk: read documents (a balanced dataset's train split, or
 * any input `moe balance` reads), count pieces on Workers, learn merges, add special tokens.
 *
 * @module
 */
import { join } from "node:path";
import { type Progress, silentProgress } from "../job/mod.ts";
import { openDataset } from "../data/dataset.ts";
import { readDocuments } from "../data/documents.ts";
import { utf8Length } from "../data/measure.ts";
import { DEFAULT_SPECIALS } from "./hf_json.ts";
import type { BpeModel } from "./tokenizer.ts";
import { WordCounter } from "./count.ts";
import { trainBpe } from "./train_bpe.ts";

/** Options of {@linkcode trainTokenizer}. */
export interface TrainTokenizerOptions {
  /** Total vocab size, special tokens included. */
  vocabSize: number;
  /** Pairs seen fewer times are never merged. */
  minFrequency: number;
  /** Special tokens, appended after the learned tokens. */
  specials?: string[];
  /** Worker threads for counting (1 = no workers). */
  threads?: number;
  /** Progress of reading and counting, in bytes read from disk. */
  progress?: Progress;
  /** Progress of merging, in tokens (defaults to `progress`). */
  mergeProgress?: Progress;
  /** Input size on disk and bytes read so far, for the counting progress bar. */
  input?: { totalBytes: number; readBytes: () => number };
  /** What the texts are, for error messages (e.g. the quoted input paths). */
  source?: string;
}

/** A trained model and what it was trained on. */
export interface TrainTokenizerResult {
  model: BpeModel;
  /** Total vocab size reached, special tokens included. */
  vocabSize: number;
  documents: number;
  /** UTF-8 bytes of training text. */
  bytes: number;
  /** Distinct pre-tokenizer pieces. */
  uniquePieces: number;
  /** Set when the corpus ran out of pairs before the vocab size was reached. */
  warning?: string;
}

/**
 * The files {@linkcode trainingTexts} reads for `inputs` (for sizes and progress).
 *
 * @param inputs Dataset directories, files or source directories.
 * @returns Paths of files or directories.
 *
 * @example
 * ```ts
 * import { trainingFiles } from "./train_corpus.ts";
 * console.assert((await trainingFiles(["fixtures/corpus/en.jsonl.gz"]))[0] === "fixtures/corpus/en.jsonl.gz");
 * ```
 */
export async function trainingFiles(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    if (await isDataset(input)) {
      const data = await openDataset(input);
      for (const cls of data.classes) files.push(data.file("train", cls));
    } else files.push(input);
  }
  return files;
}

function isDataset(path: string): Promise<boolean> {
  return Deno.stat(join(path, "manifest.json")).then(() => true, () => false);
}

/**
 * The documents of training inputs: for a balanced dataset directory (with `manifest.json`) the
 * `train` split of every class, else whatever {@linkcode readDocuments} reads from the path.
 *
 * @param inputs Dataset directories, files or source directories.
 * @param onBytes Called with the number of bytes read from disk, for progress.
 * @returns Document texts in order.
 *
 * @example
 * ```ts
 * import { trainingTexts } from "./train_corpus.ts";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(path, "first\n\nsecond\n");
 * const texts = [];
 * for await (const text of trainingTexts([path])) texts.push(text);
 * console.assert(texts.join("|") === "first|second");
 * ```
 */
export async function* trainingTexts(
  inputs: string[],
  onBytes?: (n: number) => void,
): AsyncGenerator<string> {
  const options = onBytes ? { onBytes } : {};
  for (const input of inputs) {
    if (await isDataset(input)) {
      const data = await openDataset(input);
      for (const cls of data.classes) {
        for await (const doc of readDocuments(data.file("train", cls), options)) yield doc.text;
      }
    } else {
      for await (const doc of readDocuments(input, options)) yield doc.text;
    }
  }
}

/**
 * Trains a byte-level BPE tokenizer on texts.
 *
 * @param texts Training documents.
 * @param options Vocab size, minimum frequency, special tokens, threads, progress.
 * @returns The model (ids 0–255 bytes, then merges, then special tokens) and training figures.
 * @throws {RangeError} If the vocab size cannot hold the 256 bytes and the special tokens, or
 *   the texts hold no text at all (a tokenizer of bytes alone would be trained from nothing).
 *
 * @example
 * ```ts
 * import { trainTokenizer } from "./train_corpus.ts";
 * const texts = ["the cat sat on the mat", "the hat"];
 * async function* gen() { yield* texts; }
 * const result = await trainTokenizer(gen(), { vocabSize: 262, minFrequency: 2, threads: 1 });
 * console.assert(result.model.specials[0]!.content === "<|endoftext|>");
 * console.assert(result.vocabSize <= 262);
 * ```
 */
export async function trainTokenizer(
  texts: AsyncIterable<string> | Iterable<string>,
  options: TrainTokenizerOptions,
): Promise<TrainTokenizerResult> {
  const specials = options.specials ?? DEFAULT_SPECIALS;
  const progress = options.progress ?? silentProgress;
  if (options.vocabSize < 256 + specials.length) {
    throw new RangeError(
      `Vocab size ${options.vocabSize} is below 256 bytes + ${specials.length} special tokens`,
    );
  }
  const counter = new WordCounter(options.threads ?? navigator.hardwareConcurrency);
  let documents = 0, bytes = 0;
  progress.start(options.input?.totalBytes ?? 0, "tokenizer: count");
  for await (const text of texts) {
    await counter.add(text);
    documents++;
    bytes += utf8Length(text);
    if (documents % 64 === 0) progress.update(options.input?.readBytes() ?? 0, `${documents} docs`);
  }
  const counts = await counter.finish();
  progress.stop();
  if (bytes === 0) {
    throw new RangeError(
      `Cannot train a tokenizer on ${
        options.source ?? "the texts"
      }: no text to learn from (${documents} documents)`,
    );
  }

  const target = options.vocabSize - specials.length;
  const merging = options.mergeProgress ?? progress;
  merging.start(target, "tokenizer: merge");
  const trained = trainBpe(counts, {
    vocabSize: target,
    minFrequency: options.minFrequency,
    onProgress: (n) => merging.update(n),
  });
  merging.stop();
  const base = trained.vocabSize;
  const result: TrainTokenizerResult = {
    model: {
      byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
      merges: trained.merges,
      mergeIds: trained.mergeIds,
      specials: specials.map((content, k) => ({ content, id: base + k })),
    },
    vocabSize: base + specials.length,
    documents,
    bytes,
    uniquePieces: counts.size,
  };
  if (base < target) {
    result.warning =
      `The corpus has too few pairs seen at least ${options.minFrequency} times: stopped at vocab size ${result.vocabSize} instead of ${options.vocabSize}`;
  }
  return result;
}
