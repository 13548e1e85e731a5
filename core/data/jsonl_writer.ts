/**
 * A streaming gzip JSON Lines writer that also computes the SHA-256 of the compressed file, so the
 * manifest can name each output's digest without reading it back.
 *
 * @module
 */
import { createGzip, type Gzip } from "node:zlib";
import { createHash, type Hash } from "node:crypto";
import { nameOsErrors } from "../files/os_error.ts";

/**
 * Writes one JSON value per line into a gzip file. Output is deterministic: same records, same
 * bytes.
 *
 * @example
 * ```ts
 * import { JsonlGzWriter } from "./jsonl_writer.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl.gz" });
 * const writer = await JsonlGzWriter.create(path);
 * await writer.write({ text: "hi" });
 * const sha256 = await writer.close();
 * console.assert(sha256.length === 64);
 * ```
 */
export class JsonlGzWriter {
  #gzip: Gzip;
  #hash: Hash = createHash("sha256");
  #file: Deno.FsFile;
  #pending: Promise<void> = Promise.resolve();
  #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#gzip = createGzip({ level: 6 });
    this.#gzip.on("data", (chunk: Uint8Array) => {
      this.#hash.update(chunk);
      // Chained so chunks reach the file in order; named, as Deno's error on a handle names none.
      this.#pending = this.#pending.then(() =>
        nameOsErrors("write", path, () => writeAll(this.#file, chunk))
      );
    });
  }

  /**
   * Opens (creates or truncates) `path` for writing.
   *
   * @throws {Error} `Cannot write "<path>": <reason>` when a later write fails (e.g. no space
   *   left on device), from `write` or `close`.
   */
  static async create(path: string): Promise<JsonlGzWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new JsonlGzWriter(file, path);
  }

  /** Appends one record. */
  async write(record: unknown): Promise<void> {
    const ok = this.#gzip.write(this.#encoder.encode(JSON.stringify(record) + "\n"));
    if (!ok) await new Promise<void>((resolve) => this.#gzip.once("drain", () => resolve()));
    await this.#pending;
  }

  /** Flushes, closes the file and returns the hex SHA-256 of the written bytes. */
  async close(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#gzip.once("end", () => resolve());
      this.#gzip.once("error", reject);
      this.#gzip.end();
    });
    await this.#pending;
    this.#file.close();
    return this.#hash.digest("hex");
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}
