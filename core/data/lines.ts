/**
 * Streaming line reader over plain or gzip-compressed files. Lines come out as raw bytes so the
 * caller decides how to treat invalid UTF-8 instead of having it silently replaced.
 *
 * @module
 */

/** One line of a file: its bytes (without the newline) and its 1-based number. */
export interface Line {
  bytes: Uint8Array;
  number: number;
}

/**
 * Reads `path` line by line, decompressing `.gz` files on the fly. Memory is bounded by the
 * longest line, not the file size.
 *
 * @param path File to read.
 * @param onBytes Called with the number of (compressed) bytes read from disk, for progress.
 * @returns Lines in file order; a final line without a newline is included.
 *
 * @example
 * ```ts
 * import { readLines } from "./lines.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\nbc\n");
 * const lines = [];
 * for await (const line of readLines(path)) lines.push(new TextDecoder().decode(line.bytes));
 * console.assert(lines.join("|") === "a|bc");
 * ```
 */
export async function* readLines(
  path: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<Line> {
  const file = await Deno.open(path).catch((error: Error) => {
    throw new Error(`Cannot read "${path}": ${error.message}`);
  });
  let stream: ReadableStream<Uint8Array> = file.readable;
  if (onBytes) {
    stream = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onBytes(chunk.length);
          controller.enqueue(chunk);
        },
      }),
    );
  }
  if (path.endsWith(".gz")) {
    // DecompressionStream is typed over BufferSource; it reads and yields Uint8Array here.
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  let carry: Uint8Array = new Uint8Array(0);
  let number = 0;
  const chunks = stream[Symbol.asyncIterator]();
  while (true) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (error) {
      // e.g. a truncated or corrupt gzip stream
      throw new Error(`Cannot read "${path}": ${(error as Error).message}`);
    }
    if (next.done) break;
    const chunk = next.value;
    let start = 0;
    let newline = chunk.indexOf(0x0a);
    while (newline !== -1) {
      const piece = chunk.subarray(start, newline);
      number++;
      yield { bytes: carry.length > 0 ? concat(carry, piece) : piece, number };
      carry = new Uint8Array(0);
      start = newline + 1;
      newline = chunk.indexOf(0x0a, start);
    }
    // subtle: the chunk buffer may be reused by the stream, so the tail is copied.
    carry = concat(carry, chunk.subarray(start));
  }
  if (carry.length > 0) yield { bytes: carry, number: number + 1 };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
