/**
 * Token shards: one binary file of token ids per class and split, read by the trainer in windows
 * without loading the whole file.
 *
 * Layout (little-endian):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 8 | magic `MOETOKS\0` |
 * | 8 | 4 | format version (1) |
 * | 12 | 4 | bytes per token: 2 (uint16, vocab ≤ 65 535) or 4 (uint32) |
 * | 16 | 4 | vocab size |
 * | 20 | 4 | id of `<|endoftext|>` |
 * | 24 | 8 | number of tokens |
 * | 32 | 8 | number of documents |
 * | 40 | 32 | sha256 of the `tokenizer.json` used (raw bytes) |
 * | 72 | 56 | zero |
 * | 128 | … | the tokens; every document is followed by `<|endoftext|>` |
 *
 * @module
 */
import { nameOsErrors } from "../files/os_error.ts";

/** Magic bytes at the start of every shard. */
export const SHARD_MAGIC = "MOETOKS\0";
/** The shard format version this code writes and reads. */
export const SHARD_VERSION = 1;
/** Size of the header in bytes; tokens start here. */
export const SHARD_HEADER_BYTES = 128;

/** The header of a shard. */
export interface ShardHeader {
  version: number;
  /** 2 (uint16) or 4 (uint32). */
  bytesPerToken: 2 | 4;
  vocabSize: number;
  eotId: number;
  tokens: number;
  documents: number;
  /** sha256 of the tokenizer file, hex. */
  fingerprint: string;
}

/**
 * Bytes per token for a vocab size: 2 when every id fits in uint16, else 4.
 *
 * @example
 * ```ts
 * import { bytesPerTokenFor } from "./shards.ts";
 * console.assert(bytesPerTokenFor(32000) === 2 && bytesPerTokenFor(65535) === 2 && bytesPerTokenFor(65536) === 4);
 * ```
 */
export function bytesPerTokenFor(vocabSize: number): 2 | 4 {
  return vocabSize <= 65535 ? 2 : 4;
}

function encodeHeader(h: ShardHeader): Uint8Array {
  const bytes = new Uint8Array(SHARD_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(SHARD_MAGIC));
  view.setUint32(8, h.version, true);
  view.setUint32(12, h.bytesPerToken, true);
  view.setUint32(16, h.vocabSize, true);
  view.setUint32(20, h.eotId, true);
  view.setBigUint64(24, BigInt(h.tokens), true);
  view.setBigUint64(32, BigInt(h.documents), true);
  for (let i = 0; i < 32; i++) {
    bytes[40 + i] = parseInt(h.fingerprint.slice(2 * i, 2 * i + 2), 16) || 0;
  }
  return bytes;
}

function decodeHeader(bytes: Uint8Array, path: string): ShardHeader {
  const fail = (problem: string): never => {
    throw new SyntaxError(`Cannot read token shard "${path}": ${problem}`);
  };
  if (bytes.length < SHARD_HEADER_BYTES) fail("file is shorter than the 128-byte header");
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== SHARD_MAGIC) {
    fail("bad magic (not a moe token shard)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== SHARD_VERSION) fail(`version ${version} is not ${SHARD_VERSION}`);
  const bytesPerToken = view.getUint32(12, true);
  if (bytesPerToken !== 2 && bytesPerToken !== 4) {
    fail(`bytes per token ${bytesPerToken} is not 2 or 4`);
  }
  const vocabSize = view.getUint32(16, true), eotId = view.getUint32(20, true);
  if (vocabSize < 2) fail(`vocab size ${vocabSize} is below 2`);
  if (eotId >= vocabSize) fail(`end-of-text id ${eotId} is not below the vocab size ${vocabSize}`);
  return {
    version,
    bytesPerToken: bytesPerToken as 2 | 4,
    vocabSize,
    eotId,
    tokens: Number(view.getBigUint64(24, true)),
    documents: Number(view.getBigUint64(32, true)),
    fingerprint: Array.from(bytes.subarray(40, 72), (b) => b.toString(16).padStart(2, "0")).join(
      "",
    ),
  };
}

/**
 * Writes a shard: documents are appended through a buffer, the header is written on close.
 *
 * @example
 * ```ts
 * import { openShard, ShardWriter } from "./shards.ts";
 * const path = await Deno.makeTempFile({ suffix: ".bin" });
 * const writer = await ShardWriter.create(path, { vocabSize: 300, eotId: 298, fingerprint: "ab".repeat(32) });
 * await writer.writeDocument([1, 2, 3]);
 * await writer.writeDocument([4]);
 * const header = await writer.close();
 * console.assert(header.tokens === 6 && header.documents === 2);
 * const shard = await openShard(path);
 * console.assert((await shard.read(0, 6)).join() === "1,2,3,298,4,298");
 * shard.close();
 * ```
 */
export class ShardWriter {
  #file: Deno.FsFile;
  #path: string;
  #header: ShardHeader;
  #buffer: Uint16Array | Uint32Array;
  #filled = 0;

  private constructor(file: Deno.FsFile, path: string, header: ShardHeader) {
    this.#file = file;
    this.#path = path;
    this.#header = header;
    this.#buffer = header.bytesPerToken === 2 ? new Uint16Array(1 << 19) : new Uint32Array(1 << 19);
  }

  /**
   * Creates (or truncates) `path` and reserves the header.
   *
   * @param path The shard file.
   * @param tokenizer Vocab size, end-of-text id and fingerprint of the tokenizer used.
   */
  static async create(
    path: string,
    tokenizer: { vocabSize: number; eotId: number; fingerprint: string },
  ): Promise<ShardWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const header: ShardHeader = {
      version: SHARD_VERSION,
      bytesPerToken: bytesPerTokenFor(tokenizer.vocabSize),
      ...tokenizer,
      tokens: 0,
      documents: 0,
    };
    await nameOsErrors("write", path, () => writeAll(file, encodeHeader(header))).catch((error) => {
      file.close();
      throw error;
    });
    return new ShardWriter(file, path, header);
  }

  /** Appends one document's ids followed by `<|endoftext|>`. */
  async writeDocument(ids: ArrayLike<number>): Promise<void> {
    for (let i = 0; i < ids.length;) {
      const n = Math.min(ids.length - i, this.#buffer.length - this.#filled);
      for (let k = 0; k < n; k++) this.#buffer[this.#filled + k] = ids[i + k]!;
      this.#filled += n;
      i += n;
      if (this.#filled === this.#buffer.length) await this.#flush();
    }
    if (this.#filled === this.#buffer.length) await this.#flush();
    this.#buffer[this.#filled++] = this.#header.eotId;
    this.#header.tokens += ids.length + 1;
    this.#header.documents++;
  }

  async #flush(): Promise<void> {
    const view = this.#buffer.subarray(0, this.#filled);
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    // Writes through a handle: Deno's error would name no file.
    await nameOsErrors("write", this.#path, () => writeAll(this.#file, bytes));
    this.#filled = 0;
  }

  /** Flushes, writes the final header and closes the file. */
  async close(): Promise<ShardHeader> {
    try {
      await this.#flush();
      await this.#file.seek(0, Deno.SeekMode.Start);
      await nameOsErrors(
        "write",
        this.#path,
        () => writeAll(this.#file, encodeHeader(this.#header)),
      );
    } finally {
      this.#file.close();
    }
    return { ...this.#header };
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
}

/** An open shard: header plus positional reads. */
export interface TokenShard {
  header: ShardHeader;
  /** Reads `count` tokens from token index `start` (clamped to the end). */
  read(start: number, count: number): Promise<Uint16Array | Uint32Array>;
  /**
   * Yields consecutive windows of `length` tokens every `stride` tokens (default: `length`), the
   * last one only if complete.
   */
  windows(length: number, stride?: number): AsyncGenerator<Uint16Array | Uint32Array>;
  close(): void;
}

/**
 * Opens a shard for reading without loading it: only the header is read now.
 *
 * @param path The shard file.
 * @returns The header and readers.
 * @throws {SyntaxError} If the file is not a shard of this version or is truncated.
 *
 * @example
 * ```ts
 * import { openShard, ShardWriter } from "./shards.ts";
 * const path = await Deno.makeTempFile({ suffix: ".bin" });
 * const writer = await ShardWriter.create(path, { vocabSize: 300, eotId: 299, fingerprint: "" });
 * await writer.writeDocument([5, 6, 7, 8, 9]);
 * await writer.close();
 * const shard = await openShard(path);
 * const windows = [];
 * for await (const w of shard.windows(4, 2)) windows.push(w.join());
 * shard.close();
 * console.assert(windows.join(" | ") === "5,6,7,8 | 7,8,9,299");
 * ```
 */
export async function openShard(path: string): Promise<TokenShard> {
  const file = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(SHARD_HEADER_BYTES);
    const n = await readAt(file, 0, head);
    const header = decodeHeader(head.subarray(0, n), path);
    const size = (await file.stat()).size;
    if (size !== SHARD_HEADER_BYTES + header.tokens * header.bytesPerToken) {
      throw new SyntaxError(
        `Cannot read token shard "${path}": size ${size} does not match ${header.tokens} tokens in the header`,
      );
    }
    const read = async (start: number, count: number) => {
      const end = Math.min(header.tokens, start + count), from = Math.min(start, end);
      const bytes = new Uint8Array((end - from) * header.bytesPerToken);
      await readAt(file, SHARD_HEADER_BYTES + from * header.bytesPerToken, bytes);
      return header.bytesPerToken === 2
        ? new Uint16Array(bytes.buffer)
        : new Uint32Array(bytes.buffer);
    };
    return {
      header,
      read,
      async *windows(length: number, stride = length) {
        for (let start = 0; start + length <= header.tokens; start += stride) {
          yield await read(start, length);
        }
      },
      close: () => file.close(),
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

async function readAt(file: Deno.FsFile, offset: number, into: Uint8Array): Promise<number> {
  await file.seek(offset, Deno.SeekMode.Start);
  let at = 0;
  while (at < into.length) {
    const n = await file.read(into.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at;
}

/**
 * Reads a whole shard into memory.
 *
 * @param path The shard file.
 * @returns Header and all tokens.
 *
 * @example
 * ```ts
 * import { readShard, ShardWriter } from "./shards.ts";
 * const path = await Deno.makeTempFile({ suffix: ".bin" });
 * const writer = await ShardWriter.create(path, { vocabSize: 300, eotId: 299, fingerprint: "" });
 * await writer.writeDocument([1, 2]);
 * await writer.close();
 * const { header, tokens } = await readShard(path);
 * console.assert(header.documents === 1 && tokens.join() === "1,2,299");
 * ```
 */
export async function readShard(
  path: string,
): Promise<{ header: ShardHeader; tokens: Uint16Array | Uint32Array }> {
  const shard = await openShard(path);
  try {
    return { header: shard.header, tokens: await shard.read(0, shard.header.tokens) };
  } finally {
    shard.close();
  }
}
