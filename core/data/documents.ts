/**
 * Document readers for every input format `moe` accepts: JSON Lines (plain or gzip), plain text
 * with blank-line separated documents, and directories of source/text files.
 *
 * @module
 */
import { join, relative, sep } from "node:path";
import { readLines } from "./lines.ts";

/** One document: the unit that is de-duplicated, measured and selected. */
export interface Document {
  /** Unique within its input. */
  id: string;
  /** Documents of one group (a novel, a package) never straddle a split. */
  group: string;
  text: string;
}

/** Callbacks of {@linkcode readDocuments}. */
export interface ReadOptions {
  /** Called for a document skipped because its bytes are not valid UTF-8; `where` is `file:line`. */
  onInvalidUtf8?: (where: string) => void;
  /** Called with the number of bytes read from disk, for progress. */
  onBytes?: (n: number) => void;
}

/** File extensions read as documents inside a directory input. */
export const DIRECTORY_EXTENSIONS = [".py", ".txt", ".md"];

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads the documents of a `.jsonl`/`.jsonl.gz` file (fields `text`, optional `id` and `group`), a
 * `.txt`/`.txt.gz` file (documents separated by blank lines; each document is its own group) or a
 * directory (every `.py`/`.txt`/`.md` file below it is one document, grouped by top-level entry).
 * Documents whose bytes are not valid UTF-8 are skipped and reported through `onInvalidUtf8`.
 *
 * @param path Input file or directory.
 * @param options Progress and invalid-UTF-8 callbacks.
 * @returns The documents in a deterministic order.
 * @throws {SyntaxError} On a malformed JSON line, naming `file:line`.
 * @throws {Error} If `path` does not exist or cannot be read.
 *
 * @example
 * ```ts
 * import { readDocuments } from "./documents.ts";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(path, "first doc\n\nsecond\ndoc\n");
 * const docs = [];
 * for await (const doc of readDocuments(path)) docs.push(doc.text);
 * console.assert(docs.length === 2 && docs[1] === "second\ndoc");
 * ```
 */
export async function* readDocuments(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<Document> {
  const info = await statInput(path);
  if (info.isDirectory) yield* readDirectory(path, options);
  else if (/\.jsonl(\.gz)?$/.test(path)) yield* readJsonl(path, options);
  else if (/\.txt(\.gz)?$/.test(path)) yield* readText(path, options);
  else {
    throw new TypeError(
      `Cannot read "${path}": unknown input format (expected .jsonl, .jsonl.gz, .txt or a directory)`,
    );
  }
}

/**
 * The number of bytes {@linkcode readDocuments} reads from disk for `path`, for progress bars.
 *
 * @example
 * ```ts
 * import { inputSize } from "./documents.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * console.assert(await inputSize(path) === 3);
 * ```
 */
export async function inputSize(path: string): Promise<number> {
  const info = await statInput(path);
  if (!info.isDirectory) return info.size;
  let total = 0;
  for (const file of await listFiles(path)) total += (await Deno.stat(file)).size;
  return total;
}

async function* readJsonl(path: string, options: ReadOptions): AsyncGenerator<Document> {
  for await (const line of readLines(path, options.onBytes)) {
    const where = `${path}:${line.number}`;
    const text = decodeOrReport(line.bytes, where, options);
    if (text === null || text.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`Cannot read "${where}": malformed JSON (${(error as Error).message})`);
    }
    if (typeof record !== "object" || record === null || !("text" in record)) {
      throw new SyntaxError(`Cannot read "${where}": expected an object with a "text" field`);
    }
    const { text: body, id, group } = record as Record<string, unknown>;
    if (typeof body !== "string") {
      throw new SyntaxError(`Cannot read "${where}": field "text" is not a string`);
    }
    const docId = typeof id === "string" ? id : `${path}:${line.number}`;
    yield { id: docId, group: typeof group === "string" ? group : docId, text: body };
  }
}

async function* readText(path: string, options: ReadOptions): AsyncGenerator<Document> {
  let paragraph: string[] = [];
  let first = 0;
  let index = 0;
  let valid = true;
  const flush = (): Document | null => {
    const text = paragraph.join("\n");
    const doc = valid && text.trim() !== ""
      ? { id: `${path}#${index}`, group: `${path}#${index}`, text }
      : null;
    if (!valid) options.onInvalidUtf8?.(`${path}:${first}`);
    if (paragraph.length > 0) index++;
    paragraph = [];
    valid = true;
    return doc;
  };
  for await (const line of readLines(path, options.onBytes)) {
    if (paragraph.length === 0) first = line.number;
    let text: string;
    try {
      text = strictUtf8.decode(line.bytes);
    } catch {
      valid = false;
      text = "";
    }
    if (text.trim() === "" && valid) {
      const doc = flush();
      if (doc) yield doc;
    } else paragraph.push(text);
  }
  const doc = flush();
  if (doc) yield doc;
}

async function* readDirectory(root: string, options: ReadOptions): AsyncGenerator<Document> {
  for (const file of await listFiles(root)) {
    const bytes = await Deno.readFile(file);
    options.onBytes?.(bytes.length);
    const id = relative(root, file).split(sep).join("/");
    const text = decodeOrReport(bytes, file, options);
    if (text === null) continue;
    yield { id, group: id.split("/")[0]!, text };
  }
}

async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    const entries = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
    // Sorted so the document order, and with it every output, is deterministic.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && DIRECTORY_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        files.push(path);
      }
    }
  };
  await walk(root);
  return files;
}

function decodeOrReport(bytes: Uint8Array, where: string, options: ReadOptions): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    options.onInvalidUtf8?.(where);
    return null;
  }
}

async function statInput(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new Error(`Cannot read "${path}": ${why}`);
  }
}
