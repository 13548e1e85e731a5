/**
 * The `BPE` model of a `tokenizer.json` (`tokenizers`' `models::bpe`): a piece is split into its
 * characters, each looked up in the vocab — byte-level pieces are already one character per byte;
 * a character the vocab lacks becomes its UTF-8 bytes as `<0x..>` tokens (`byte_fallback`), else
 * `unk_token` (runs fused into one with `fuse_unk`), else it is dropped, as `tokenizers` does —
 * and the symbols are merged by the shared merge loop. `ignore_merges` (Llama 3) takes a piece
 * that is itself in the vocab whole.
 *
 * @module
 */
import { BpeMerges } from "../bpe_merge.ts";
import { PieceCache } from "../_piece_cache.ts";
import { booleanAt, type Fail, isObject, type Json, notA, objectAt } from "./_fields.ts";

const CACHE_LIMIT = 1 << 16;
const CACHE_MAX_PIECE = 256;

/** The name of byte `b`'s fallback token: `<0x0A>` (Rust's `format!("<{b:#04X}>")`). */
export function byteTokenName(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/** What a `BPE` model part holds, checked. */
export interface BpeModelSpec {
  /** Token string → id. */
  vocab: Map<string, number>;
  /** Merge `i` joins ids `merges[2i]`, `merges[2i + 1]`; its rank is `i`. */
  merges: Int32Array;
  /** The id merge `i` makes. */
  mergeIds: Int32Array;
  /** Id of `unk_token`, or -1 without one. */
  unkId: number;
  /** Characters outside the vocab become their bytes' `<0x..>` tokens. */
  byteFallback: boolean;
  /** A run of unknown characters becomes one `unk_token`. */
  fuseUnk: boolean;
  /** A piece that is itself in the vocab is taken whole, unmerged (Llama 3). */
  ignoreMerges: boolean;
}

/** Checks that `continuing_subword_prefix`/`end_of_word_suffix` is absent, null or "" (no effect). */
function checkNoAffix(model: Json, key: string, fail: Fail): void {
  const value = model[key];
  if (value !== null && value !== undefined && value !== "") {
    fail(`model.${key}`, `is ${JSON.stringify(value)}; only null or "" is supported`);
  }
}

/** One merge: `"a b"` (the legacy form) or `["a", "b"]`. */
function readMerge(entry: unknown, i: number, fail: Fail): [string, string] {
  const parts = typeof entry === "string" ? entry.split(" ") : entry;
  if (
    !Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== "string" ||
    typeof parts[1] !== "string"
  ) {
    return fail(`model.merges[${i}]`, `is ${JSON.stringify(entry)}, not a pair of tokens`);
  }
  return [parts[0], parts[1]];
}

/** `model.vocab`: token → id, each id a non-negative integer used once. */
function readVocab(model: Json, fail: Fail): Map<string, number> {
  if (!isObject(model.vocab)) return fail("model.vocab", notA(model.vocab, "an object"));
  const vocab = new Map<string, number>(), tokenOf = new Map<number, string>();
  for (const [token, id] of Object.entries(model.vocab)) {
    const at = `model.vocab[${JSON.stringify(token)}]`;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= 2 ** 31) {
      return fail(at, `is ${JSON.stringify(id)}, not an id`);
    }
    const other = tokenOf.get(id);
    if (other !== undefined) {
      fail(at, `has id ${id}, already model.vocab[${JSON.stringify(other)}]`);
    }
    vocab.set(token, id);
    tokenOf.set(id, token);
  }
  return vocab;
}

/** `model.merges` as ids: the pairs, and the id each makes (the pair's strings joined). */
function readMerges(model: Json, vocab: Map<string, number>, fail: Fail) {
  if (!Array.isArray(model.merges)) return fail("model.merges", notA(model.merges, "an array"));
  // `tokenizers` skips a "#version" line in the legacy "a b" form.
  const list = (model.merges as unknown[]).filter((m) => !String(m).startsWith("#version"));
  const merges = new Int32Array(list.length * 2), mergeIds = new Int32Array(list.length);
  const rankOf = new Map<string, number>();
  list.forEach((entry, i) => {
    const [left, right] = readMerge(entry, i, fail);
    const a = vocab.get(left), b = vocab.get(right), z = vocab.get(left + right);
    if (a === undefined || b === undefined || z === undefined) {
      const missing = a === undefined ? left : b === undefined ? right : left + right;
      return fail(
        `model.merges[${i}]`,
        `uses ${JSON.stringify(missing)}, which is not in model.vocab`,
      );
    }
    const earlier = rankOf.get(`${a} ${b}`);
    if (earlier !== undefined) fail(`model.merges[${i}]`, `repeats model.merges[${earlier}]`);
    rankOf.set(`${a} ${b}`, i);
    merges[2 * i] = a;
    merges[2 * i + 1] = b;
    mergeIds[i] = z;
  });
  return { merges, mergeIds };
}

/**
 * Reads and checks the `model` part of a `tokenizer.json`.
 *
 * @param json The `model` part.
 * @param fail Throws the load error.
 * @returns The checked model.
 *
 * @example
 * ```ts
 * import { parseBpeModel } from "./bpe_model.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const spec = parseBpeModel(
 *   { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: [["a", "b"]] }, fail,
 * );
 * console.assert(spec.mergeIds[0] === 2 && spec.unkId === -1);
 * ```
 */
export function parseBpeModel(json: unknown, fail: Fail): BpeModelSpec {
  const model = objectAt(json, "model", fail);
  if (model.type !== "BPE") {
    fail("model.type", `${JSON.stringify(model.type)} is not supported (supported: BPE)`);
  }
  if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0) {
    fail(
      "model.dropout",
      `is ${model.dropout}; only null is supported (encoding is deterministic)`,
    );
  }
  checkNoAffix(model, "continuing_subword_prefix", fail);
  checkNoAffix(model, "end_of_word_suffix", fail);
  const vocab = readVocab(model, fail);
  const { merges, mergeIds } = readMerges(model, vocab, fail);
  let unkId = -1;
  if (model.unk_token !== null && model.unk_token !== undefined) {
    const unk = vocab.get(String(model.unk_token));
    if (typeof model.unk_token !== "string" || unk === undefined) {
      fail("model.unk_token", `is ${JSON.stringify(model.unk_token)}, which is not in model.vocab`);
    }
    unkId = unk!;
  }
  return {
    vocab,
    merges,
    mergeIds,
    unkId,
    byteFallback: booleanAt(model, "byte_fallback", "model", fail, false),
    fuseUnk: booleanAt(model, "fuse_unk", "model", fail, false),
    ignoreMerges: booleanAt(model, "ignore_merges", "model", fail, false),
  };
}

/**
 * A `BPE` model that encodes pieces (after normalization and pre-tokenization) to ids.
 *
 * @example
 * ```ts
 * import { HfBpeModel, parseBpeModel } from "./bpe_model.ts";
 * const fail = (path: string, problem: string): never => { throw new SyntaxError(`${path} ${problem}`); };
 * const vocab: Record<string, number> = { "<unk>": 0, "▁": 1, h: 2, i: 3, "▁h": 4, "▁hi": 5 };
 * for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 6 + b;
 * const model = new HfBpeModel(parseBpeModel({
 *   type: "BPE", vocab, merges: ["▁ h", "▁h i"], unk_token: "<unk>", byte_fallback: true,
 * }, fail));
 * console.assert(String(model.encode("▁hi")) === "5");
 * console.assert(String(model.encode("▁hé")) === "4,201,175"); // é = <0xC3> <0xA9>
 * ```
 */
export class HfBpeModel {
  /** Number of merges. */
  readonly mergeCount: number;
  /** Largest id + 1. */
  readonly size: number;
  readonly #spec: BpeModelSpec;
  readonly #merges: BpeMerges;
  /** Id of each BMP character that is a token, else -1. */
  readonly #charIds = new Int32Array(0x10000).fill(-1);
  /** Id of each byte's `<0x..>` token, else -1. */
  readonly #byteIds = new Int32Array(256).fill(-1);
  #cache = new PieceCache(CACHE_LIMIT);
  #symbols = new Int32Array(1024);
  #utf8 = new TextEncoder();

  /**
   * Prepares a model for encoding.
   *
   * @param spec The checked model (see {@linkcode parseBpeModel}).
   */
  constructor(spec: BpeModelSpec) {
    this.#spec = spec;
    this.mergeCount = spec.mergeIds.length;
    let size = 0;
    const initial: number[] = [];
    for (const [token, id] of spec.vocab) {
      size = Math.max(size, id + 1);
      if (token === "") continue;
      const code = token.codePointAt(0)!;
      if (token.length === 1) this.#charIds[code] = id;
      if (token.length === (code > 0xffff ? 2 : 1)) initial.push(id);
    }
    for (let b = 0; b < 256; b++) {
      const id = spec.vocab.get(byteTokenName(b));
      if (id !== undefined) initial.push(this.#byteIds[b] = id);
    }
    if (spec.unkId >= 0) initial.push(spec.unkId);
    this.size = size;
    this.#merges = new BpeMerges(spec.merges, spec.mergeIds, initial);
  }

  /** Number of vocab entries. */
  get tokenCount(): number {
    return this.#spec.vocab.size;
  }

  /** Calls `visit` with each vocab token and its id. */
  forEachToken(visit: (token: string, id: number) => void): void {
    this.#spec.vocab.forEach((id, token) => visit(token, id));
  }

  /** The id of a token string, if it is in the vocab. */
  tokenId(token: string): number | undefined {
    return this.#spec.vocab.get(token);
  }

  /**
   * Encodes one piece.
   *
   * @param piece Non-empty text after pre-tokenization.
   * @returns Its id when it is one token, else its ids.
   */
  encode(piece: string): number | Int32Array {
    const hash = PieceCache.hash(piece, 0, piece.length);
    let ids = this.#cache.get(piece, 0, piece.length, hash);
    if (ids === undefined) {
      ids = this.#encodeUncached(piece);
      if (piece.length <= CACHE_MAX_PIECE) this.#cache.set(piece, hash, ids);
    }
    return ids;
  }

  #encodeUncached(piece: string): number | Int32Array {
    if (this.#spec.ignoreMerges) {
      const id = this.#spec.vocab.get(piece);
      if (id !== undefined) return id;
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes, so at most 3 byte tokens.
    if (this.#symbols.length < piece.length * 3) this.#symbols = new Int32Array(piece.length * 3);
    const sym = this.#symbols, { unkId, fuseUnk, byteFallback } = this.#spec;
    let n = 0, unkPending = false;
    for (let i = 0; i < piece.length;) {
      const code = piece.codePointAt(i)!, width = code > 0xffff ? 2 : 1;
      const id = width === 1 ? this.#charIds[code]! : this.#spec.vocab.get(piece.slice(i, i + 2));
      const char = i;
      i += width;
      if (id !== undefined && id >= 0) {
        if (unkPending) sym[n++] = unkId;
        unkPending = false;
        sym[n++] = id;
        continue;
      }
      // subtle: as in `tokenizers`, byte tokens do not flush a pending unk, which follows them.
      const written = byteFallback ? this.#pushBytes(piece.slice(char, i), sym, n) : 0;
      if (written > 0) {
        n += written;
        continue;
      }
      if (unkId < 0) continue; // no unk token: `tokenizers` drops the character
      if (unkPending && !fuseUnk) sym[n++] = unkId;
      unkPending = true;
    }
    if (unkPending) sym[n++] = unkId;
    n = this.#merges.apply(sym, n);
    return n === 1 ? sym[0]! : sym.slice(0, n);
  }

  /** Writes the byte tokens of `char` at `sym[n..]`: how many, or 0 if one is missing. */
  #pushBytes(char: string, sym: Int32Array, n: number): number {
    const bytes = this.#utf8.encode(char);
    for (const b of bytes) if (this.#byteIds[b]! < 0) return 0;
    bytes.forEach((b, k) => sym[n + k] = this.#byteIds[b]!);
    return bytes.length;
  }
}
