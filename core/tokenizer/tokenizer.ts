/**
 * The byte-level BPE tokenizer: encodes text or raw bytes to ids by merge rank (lowest rank first,
 * leftmost first, as Hugging Face `tokenizers` does), with a per-piece cache, and decodes ids back
 * to the exact bytes.
 *
 * @module
 */
import { BpeMerges } from "./bpe_merge.ts";
import { validUtf8Prefix } from "./bytes.ts";
import { PieceCache } from "./_piece_cache.ts";
import { pieceEnd } from "./_scanner.ts";
import type { SpecialToken, TextTokenizer } from "./text_tokenizer.ts";

/** Everything that defines a tokenizer. */
export interface BpeModel {
  /** Id of each byte value 0–255 (the identity for tokenizers trained here). */
  byteIds: Int32Array;
  /** Merge `i` joins ids `merges[2i]`, `merges[2i + 1]`; its rank is `i`. */
  merges: Int32Array;
  /** Id produced by merge `i`. */
  mergeIds: Int32Array;
  /** Special tokens (ids above or between the others); never produced by encoding ordinary text. */
  specials: SpecialToken[];
}

const CACHE_LIMIT = 1 << 18;
const CACHE_MAX_PIECE = 256;

/**
 * `moe`'s own byte-level BPE tokenizer (the layout `moe tokenizer train` writes).
 *
 * @example
 * ```ts
 * import { Tokenizer } from "./tokenizer.ts";
 * // bytes only, plus one merge ("a", "b") → 256 and <|endoftext|> at 257
 * const tok = new Tokenizer({
 *   byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
 *   merges: Int32Array.of(97, 98),
 *   mergeIds: Int32Array.of(256),
 *   specials: [{ content: "<|endoftext|>", id: 257 }],
 * });
 * console.assert(tok.encode("abc").join() === "256,99" && tok.decode([256, 99]) === "abc");
 * console.assert(tok.vocabSize === 258 && tok.specialId("<|endoftext|>") === 257);
 * ```
 */
export class Tokenizer implements TextTokenizer {
  /** Number of ids (bytes, merged tokens and special tokens). */
  readonly vocabSize: number;
  /** The model this tokenizer was built from. */
  readonly model: BpeModel;
  /** sha256 of the `tokenizer.json` it was loaded from (hex), or "" when built in memory. */
  readonly fingerprint: string;
  #merges: BpeMerges;
  #tokenStart: Int32Array;
  #tokenBytes: Uint8Array;
  /** Piece → its id, or its ids when there are several. */
  #cache = new PieceCache(CACHE_LIMIT);
  #utf8 = new TextEncoder();
  #scratch = new Uint8Array(1024);
  #symbols = new Int32Array(1024);
  #out = new Uint32Array(1 << 16);
  #outLength = 0;

  /**
   * @param model Byte ids, merges and special tokens.
   * @param fingerprint Hash of the file it came from.
   * @throws {RangeError} If a merge repeats an earlier one or refers to an unknown id.
   */
  constructor(model: BpeModel, fingerprint = "") {
    this.model = model;
    this.fingerprint = fingerprint;
    let size = 0;
    for (const id of model.byteIds) size = Math.max(size, id + 1);
    for (const id of model.mergeIds) size = Math.max(size, id + 1);
    for (const { id } of model.specials) size = Math.max(size, id + 1);
    this.vocabSize = size;
    const bytesOf: (Uint8Array | undefined)[] = new Array(size);
    model.byteIds.forEach((id, b) => bytesOf[id] = Uint8Array.of(b));
    for (let i = 0; i < model.mergeIds.length; i++) {
      const a = model.merges[2 * i]!, b = model.merges[2 * i + 1]!;
      const left = bytesOf[a], right = bytesOf[b];
      if (!left || !right) throw new RangeError(`Merge ${i} (${a}, ${b}) uses an id not made yet`);
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      bytesOf[model.mergeIds[i]!] ??= joined;
    }
    this.#merges = new BpeMerges(model.merges, model.mergeIds, model.byteIds);
    for (const { content, id } of model.specials) bytesOf[id] = this.#utf8.encode(content);
    this.#tokenStart = new Int32Array(size + 1);
    for (let id = 0; id < size; id++) {
      this.#tokenStart[id + 1] = this.#tokenStart[id]! + (bytesOf[id]?.length ?? 0);
    }
    this.#tokenBytes = new Uint8Array(this.#tokenStart[size]!);
    bytesOf.forEach((bytes, id) => bytes && this.#tokenBytes.set(bytes, this.#tokenStart[id]!));
  }

  /** The special tokens. */
  get specials(): readonly SpecialToken[] {
    return this.model.specials;
  }

  /** Number of merge rules. */
  get mergeCount(): number {
    return this.model.mergeIds.length;
  }

  /**
   * The id of a special token.
   *
   * @throws {RangeError} If the tokenizer has no such special token.
   */
  specialId(content: string): number {
    const found = this.model.specials.find((s) => s.content === content);
    if (!found) {
      const known = this.model.specials.map((s) => s.content).join(", ");
      throw new RangeError(`Tokenizer has no special token "${content}" (it has: ${known})`);
    }
    return found.id;
  }

  /** The bytes of token `id` (a view; do not modify). */
  tokenBytes(id: number): Uint8Array {
    return this.#tokenBytes.subarray(this.#tokenStart[id]!, this.#tokenStart[id + 1]!);
  }

  /**
   * Encodes text. Special-token text in the input is encoded as ordinary text (it never becomes a
   * special id). Lone UTF-16 surrogates, which UTF-8 cannot hold, become U+FFFD.
   *
   * @param text Any string.
   * @returns Token ids.
   */
  encode(text: string): Uint32Array {
    this.#outLength = 0;
    this.#encodeText(text);
    return this.#out.slice(0, this.#outLength);
  }

  /**
   * Encodes raw bytes; invalid UTF-8 bytes become single-byte tokens, so any byte string survives
   * `decodeBytes(encodeBytes(x))`.
   *
   * @param bytes Any bytes.
   * @returns Token ids.
   */
  encodeBytes(bytes: Uint8Array): Uint32Array {
    this.#outLength = 0;
    const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
    for (let i = 0; i < bytes.length;) {
      const valid = validUtf8Prefix(bytes, i);
      if (valid > 0) {
        this.#encodeText(utf8.decode(bytes.subarray(i, i + valid)));
        i += valid;
      } else {
        this.#push(this.model.byteIds[bytes[i++]!]!);
      }
    }
    return this.#out.slice(0, this.#outLength);
  }

  /**
   * Decodes ids to bytes.
   *
   * @param ids Token ids.
   * @returns The bytes they stand for.
   * @throws {RangeError} Naming the first id that is out of range.
   */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < this.vocabSize && Number.isInteger(id))) {
        throw new RangeError(
          `Cannot decode id ${id} at position ${i}: ids must be integers in [0, ${
            this.vocabSize - 1
          }]`,
        );
      }
      total += this.#tokenStart[id + 1]! - this.#tokenStart[id]!;
    }
    const out = new Uint8Array(total);
    for (let i = 0, at = 0; i < ids.length; i++) {
      const s = this.#tokenStart[ids[i]!]!, e = this.#tokenStart[ids[i]! + 1]!;
      out.set(this.#tokenBytes.subarray(s, e), at);
      at += e - s;
    }
    return out;
  }

  /**
   * Decodes ids to text; byte sequences that are not valid UTF-8 become U+FFFD.
   *
   * @throws {RangeError} Naming the first id that is out of range.
   */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(this.decodeBytes(ids));
  }

  #push(id: number): void {
    if (this.#outLength === this.#out.length) this.#growOut(1);
    this.#out[this.#outLength++] = id;
  }

  #growOut(extra: number): void {
    const grown = new Uint32Array(Math.max(this.#out.length * 2, this.#outLength + extra));
    grown.set(this.#out.subarray(0, this.#outLength));
    this.#out = grown;
  }

  #encodeText(text: string): void {
    const cache = this.#cache;
    for (let i = 0, end = 0; i < text.length; i = end) {
      end = pieceEnd(text, i);
      const hash = PieceCache.hash(text, i, end);
      let ids = cache.get(text, i, end, hash);
      if (ids === undefined) {
        const piece = text.slice(i, end);
        ids = this.#encodePiece(piece);
        if (piece.length <= CACHE_MAX_PIECE) cache.set(piece, hash, ids);
      }
      // Most pieces are one token: skip the typed-array copy for them.
      if (typeof ids === "number") {
        if (this.#outLength === this.#out.length) this.#growOut(1);
        this.#out[this.#outLength++] = ids;
      } else {
        if (this.#outLength + ids.length > this.#out.length) this.#growOut(ids.length);
        this.#out.set(ids, this.#outLength);
        this.#outLength += ids.length;
      }
    }
  }

  /** BPE on one pre-tokenizer piece: its bytes' ids, merged. */
  #encodePiece(piece: string): number | Int32Array {
    const n = this.#pieceBytes(piece);
    const sym = this.#symbols, byteIds = this.model.byteIds, scratch = this.#scratch;
    for (let i = 0; i < n; i++) sym[i] = byteIds[scratch[i]!]!;
    const length = this.#merges.apply(sym, n);
    return length === 1 ? sym[0]! : sym.slice(0, length);
  }

  /** Writes the UTF-8 bytes of `piece` to the scratch buffer (ASCII without TextEncoder). */
  #pieceBytes(piece: string): number {
    if (this.#scratch.length < piece.length * 3) {
      this.#scratch = new Uint8Array(piece.length * 3);
      this.#symbols = new Int32Array(piece.length * 3);
    }
    let ascii = true;
    for (let i = 0; i < piece.length && ascii; i++) {
      const code = piece.charCodeAt(i);
      this.#scratch[i] = code;
      ascii = code < 0x80;
    }
    return ascii ? piece.length : this.#utf8.encodeInto(piece, this.#scratch).written;
  }
}
