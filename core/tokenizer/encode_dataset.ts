/**
 * Turning a balanced dataset into token shards: `OUT/{split}/{class}.bin` (format in
 * {@link ./shards.ts}) plus `OUT/manifest.json` with the tokenizer's fingerprint and the counts.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../files/mod.ts";
import { type Progress, silentProgress } from "../job/mod.ts";
import { openDataset } from "../data/dataset.ts";
import { readDocuments } from "../data/documents.ts";
import { utf8Length } from "../data/measure.ts";
import { sha256File } from "../data/content_hash.ts";
import { ShardWriter } from "./shards.ts";
import { endOfTextId, type TextTokenizer } from "./text_tokenizer.ts";
import {
  type ShardEntry,
  TOKENS_MANIFEST_VERSION,
  type TokensManifest,
  tokensManifestSchema,
} from "./tokens_manifest_schema.ts";
import { checkJson, parseJsonText } from "../schema/mod.ts";

/** Options of {@linkcode encodeDataset}. */
export interface EncodeDatasetOptions {
  /** Loaded tokenizer. */
  tokenizer: TextTokenizer;
  /** Its file: recorded in the manifest, and loaded by each worker. */
  tokenizerPath: string;
  /** Workers encoding shards side by side (1 = this thread only). */
  threads?: number;
  /** Progress sink (bytes of text). */
  progress?: Progress;
}

/** One shard to write. */
interface ShardJob {
  split: string;
  cls: string;
  input: string;
  output: string;
  /** Text bytes according to the dataset manifest, for scheduling and progress. */
  bytes: number;
}

/**
 * Encodes every split and class of a balanced dataset into `outDir` (which must exist; the command
 * wraps this in an atomic directory). With `threads` > 1 the shards are encoded on Workers, the
 * largest first.
 *
 * @param dataDir Balanced dataset directory.
 * @param outDir Where the shards and manifest go.
 * @param options Tokenizer, its path, threads, progress.
 * @returns The manifest written.
 * @throws {Error} If a worker fails or the tokenizer file changed since it was loaded here.
 *
 * @example
 * ```ts
 * import { balance } from "../data/mod.ts";
 * import { encodeDataset, openTokens, Tokenizer, trainTokenizer } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.txt`, "one doc here\n\nanother doc\n\nthird one\n");
 * await Deno.mkdir(`${root}/data`);
 * await balance(`${root}/data`, {
 *   inputs: new Map([["x", [`${root}/a.txt`]]]), by: "chars", target: "min", maxDiffPercent: 1,
 *   minChars: 0, seed: 1, split: [1, 0, 0], command: [],
 * });
 * const { model } = await trainTokenizer(["one doc here another doc"], { vocabSize: 270, minFrequency: 1, threads: 1 });
 * await Deno.mkdir(`${root}/tokens`);
 * await encodeDataset(`${root}/data`, `${root}/tokens`, {
 *   tokenizer: new Tokenizer(model),
 *   tokenizerPath: "tok.json",
 * });
 * const manifest = await openTokens(`${root}/tokens`);
 * console.assert(manifest.shards["train/x.bin"]!.documents === 3);
 * console.assert(manifest.shards["train/x.bin"]!.sha256?.length === 64);
 * ```
 */
export async function encodeDataset(
  dataDir: string,
  outDir: string,
  options: EncodeDatasetOptions,
): Promise<TokensManifest> {
  const { tokenizer, tokenizerPath } = options;
  const progress = options.progress ?? silentProgress;
  const data = await openDataset(dataDir);
  const eotId = endOfTextId(tokenizer, tokenizerPath);
  const padId = tokenizer.specials.find((s) => s.content === "<|pad|>")?.id ?? null;
  const jobs: ShardJob[] = [];
  for (const split of data.splits) {
    await Deno.mkdir(join(outDir, split), { recursive: true });
    for (const cls of data.classes) {
      const entry = data.manifest.files[`${split}/${cls}.jsonl.gz`];
      if (!entry) continue;
      const output = join(outDir, split, `${cls}.bin`);
      jobs.push({ split, cls, input: data.file(split, cls), output, bytes: entry.bytes });
    }
  }
  progress.start(jobs.reduce((sum, job) => sum + job.bytes, 0), "tokenizer: encode");
  let done = 0;
  const onBytes = (n: number) => progress.update(done += n);
  const threads = Math.min(options.threads ?? 1, jobs.length);
  const entries = threads > 1
    ? await encodeOnWorkers(jobs, tokenizerPath, tokenizer.fingerprint, threads, onBytes)
    : await encodeHere(jobs, tokenizer, onBytes);
  progress.stop();
  // Recorded so that `--resume` can tell these shards from a re-encoding of the same data.
  for (const [i, job] of jobs.entries()) entries[i]!.sha256 = await sha256File(job.output);
  const manifest: TokensManifest = {
    format: "moe-token-shards",
    version: TOKENS_MANIFEST_VERSION,
    tokenizer: {
      path: tokenizerPath,
      fingerprint: tokenizer.fingerprint,
      vocabSize: tokenizer.vocabSize,
      eotId,
      padId,
    },
    dataset: { dir: dataDir },
    dtype: tokenizer.vocabSize <= 65535 ? "uint16" : "uint32",
    classes: data.classes,
    splits: data.splits,
    shards: Object.fromEntries(jobs.map((job, i) => [`${job.split}/${job.cls}.bin`, entries[i]!])),
  };
  await writeFileAtomic(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/**
 * Encodes the documents of one dataset file into one shard.
 *
 * @param tokenizer Loaded tokenizer.
 * @param input A `.jsonl.gz` file of the dataset (or any input `readDocuments` reads).
 * @param output The shard to write.
 * @param onBytes Called with the UTF-8 bytes of each document encoded.
 * @returns Documents, tokens (end-of-text included) and text bytes.
 *
 * @example
 * ```ts
 * import { encodeFile, readShard, Tokenizer, trainTokenizer } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "one doc\n\nanother doc\n");
 * const { model } = await trainTokenizer(["one doc another doc"], { vocabSize: 262, minFrequency: 1, threads: 1 });
 * const counts = await encodeFile(new Tokenizer(model), `${dir}/a.txt`, `${dir}/a.bin`);
 * console.assert(counts.documents === 2 && (await readShard(`${dir}/a.bin`)).tokens.length === counts.tokens);
 * ```
 */
export async function encodeFile(
  tokenizer: TextTokenizer,
  input: string,
  output: string,
  onBytes: (n: number) => void = () => {},
): Promise<{ documents: number; tokens: number; bytes: number }> {
  const writer = await ShardWriter.create(output, {
    vocabSize: tokenizer.vocabSize,
    eotId: endOfTextId(tokenizer),
    fingerprint: tokenizer.fingerprint,
  });
  let bytes = 0;
  try {
    for await (const doc of readDocuments(input)) {
      await writer.writeDocument(tokenizer.encode(doc.text));
      const n = utf8Length(doc.text);
      bytes += n;
      onBytes(n);
    }
  } catch (error) {
    await writer.close().catch(() => {});
    throw error;
  }
  const header = await writer.close();
  return { documents: header.documents, tokens: header.tokens, bytes };
}

async function encodeHere(
  jobs: ShardJob[],
  tokenizer: TextTokenizer,
  onBytes: (n: number) => void,
) {
  const entries: ShardEntry[] = [];
  for (const job of jobs) {
    const counts = await encodeFile(tokenizer, job.input, job.output, onBytes);
    entries.push({ class: job.cls, split: job.split, ...counts });
  }
  return entries;
}

/** A job for an encoding worker. */
export interface EncodeRequest {
  tokenizerPath: string;
  /** The worker refuses a tokenizer file whose sha256 differs (it changed on disk meanwhile). */
  fingerprint: string;
  input: string;
  output: string;
}

/** Messages from an encoding worker. */
export type EncodeReply =
  | { type: "bytes"; n: number }
  | { type: "done"; documents: number; tokens: number; bytes: number }
  | { type: "error"; message: string };

async function encodeOnWorkers(
  jobs: ShardJob[],
  tokenizerPath: string,
  fingerprint: string,
  threads: number,
  onBytes: (n: number) => void,
): Promise<ShardEntry[]> {
  const entries: ShardEntry[] = new Array(jobs.length);
  // Largest shards first, so that no worker is left alone with a big one at the end.
  const queue = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.bytes - jobs[a]!.bytes);
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL("./_encode_worker.ts", import.meta.url).href, { type: "module" }),
  );
  const run = (worker: Worker, i: number) =>
    new Promise<void>((resolve, reject) => {
      const job = jobs[i]!;
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`Encoding worker failed on "${job.input}": ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent<EncodeReply>) => {
        const reply = event.data;
        if (reply.type === "bytes") onBytes(reply.n);
        else if (reply.type === "error") reject(new Error(reply.message));
        else {
          const { documents, tokens, bytes } = reply;
          entries[i] = { class: job.cls, split: job.split, documents, tokens, bytes };
          resolve();
        }
      };
      const request: EncodeRequest = { tokenizerPath, fingerprint, ...job };
      worker.postMessage(request);
    });
  try {
    await Promise.all(workers.map(async (worker) => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) await run(worker, i);
    }));
  } finally {
    workers.forEach((worker) => worker.terminate());
  }
  return entries;
}

/**
 * Reads and checks the manifest of a token shard directory.
 *
 * @param dir Directory written by `moe tokenizer encode`.
 * @returns The manifest.
 * @throws {Deno.errors.NotFound} If there is no `manifest.json`.
 * @throws {SyntaxError} If it is not JSON, of another format or version, or a field is missing,
 *   of the wrong type or out of range; the message names the file and the field.
 *
 * @example
 * ```ts
 * import { openTokens } from "./encode_dataset.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({ format: "other" }));
 * try {
 *   await openTokens(dir);
 * } catch (error) {
 *   console.assert(String(error).includes("not moe-token-shards"));
 * }
 * ```
 */
export async function openTokens(dir: string): Promise<TokensManifest> {
  const path = join(dir, "manifest.json");
  const text = await Deno.readTextFile(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `Cannot open token shards "${dir}": no manifest.json there (is it a moe tokenizer encode output?)`,
    );
  });
  const raw = parseJsonText(text, "token manifest", path) as Partial<TokensManifest> | null;
  if (raw?.format !== "moe-token-shards" || raw.version !== TOKENS_MANIFEST_VERSION) {
    throw new SyntaxError(
      `Cannot open token shards "${dir}": manifest.json is not moe-token-shards version ${TOKENS_MANIFEST_VERSION}`,
    );
  }
  return checkJson(tokensManifestSchema, raw, "token manifest", path);
}
