/**
 * Content keys for exact de-duplication, seeded position-independent pseudo-random numbers, and
 * the sha256 of a file (what manifests record to notice a swapped or altered file).
 * Selection and splitting draw from these so that the same inputs and seed always give the same
 * output, whatever order the documents were read in.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A 64-bit content key as two unsigned 32-bit halves. */
export interface ContentKey {
  hi: number;
  lo: number;
}

/**
 * The de-duplication key of a text: the first 64 bits of the MD5 of the text with every whitespace
 * run collapsed to one space and the ends trimmed. Texts that differ only in whitespace collide on
 * purpose; unrelated texts collide with probability about n²/2⁶⁵.
 *
 * @example
 * ```ts
 * import { contentKey } from "./content_hash.ts";
 * console.assert(JSON.stringify(contentKey("a  b\n")) === JSON.stringify(contentKey("a b")));
 * console.assert(JSON.stringify(contentKey("a b")) !== JSON.stringify(contentKey("ab")));
 * ```
 */
export function contentKey(text: string): ContentKey {
  const digest = createHash("md5").update(text.replace(/\s+/g, " ").trim()).digest();
  return { hi: digest.readUInt32LE(0), lo: digest.readUInt32LE(4) };
}

/**
 * A uniform number in [0, 1) derived from a seed and any number of strings (FNV-1a, then a
 * murmur3 finaliser for good low bits). Same arguments, same number.
 *
 * @example
 * ```ts
 * import { seededUnit } from "./content_hash.ts";
 * const x = seededUnit(7, "en", "doc-1");
 * console.assert(x >= 0 && x < 1 && x === seededUnit(7, "en", "doc-1"));
 * console.assert(x !== seededUnit(8, "en", "doc-1"));
 * ```
 */
export function seededUnit(seed: number, ...parts: string[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193); // separator, so ("ab","c") ≠ ("a","bc")
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * The sha256 of a shard file (header included), read in chunks: what `manifest.json` records for
 * each shard and `--resume` checks.
 *
 * @param path The shard file.
 * @returns Lower-case hex.
 *
 * @example
 * ```ts
 * import { sha256File } from "./content_hash.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * console.assert((await sha256File(path)).startsWith("ba7816bf"));
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const chunk = new Uint8Array(1 << 20);
  for (let n = await file.read(chunk); n !== null; n = await file.read(chunk)) {
    hash.update(chunk.subarray(0, n));
  }
  return hash.digest("hex");
}
