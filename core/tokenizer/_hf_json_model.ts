/**
 * The `model` and `added_tokens` sections of a `tokenizer.json` in `moe`'s layout, read into the
 * parts of a {@linkcode BpeModel}; each check names the JSON field that fails.
 *
 * @module
 */
import { BYTE_TO_CHAR, tokenStringToBytes } from "./bytes.ts";
import type { SpecialToken } from "./text_tokenizer.ts";
import type { BpeModel } from "./tokenizer.ts";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** Throws the load error of a `tokenizer.json`, naming the field and its problem. */
export type Fail = (field: string, problem: string) => never;

/** Whether a parsed JSON value is an object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Refuses the BPE options moe's byte-level model does not have. */
export function checkModelOptions(model: Json, fail: Fail): void {
  if (model.type !== "BPE") fail("model.type", `is ${JSON.stringify(model.type)}, expected "BPE"`);
  for (const field of ["continuing_subword_prefix", "end_of_word_suffix", "unk_token"]) {
    if (model[field] !== null && model[field] !== undefined) fail(`model.${field}`, "must be null");
  }
  if (model.byte_fallback === true) fail("model.byte_fallback", "must be false");
  if (model.ignore_merges === true) fail("model.ignore_merges", "must be false");
}

/** `model.vocab` as token string → id; every token must be a byte-level token string. */
export function parseVocab(vocab: unknown, fail: Fail): Map<string, number> {
  if (!isObject(vocab)) return fail("model.vocab", "is missing or not an object");
  const idOf = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      fail(`model.vocab[${JSON.stringify(token)}]`, `is ${JSON.stringify(id)}, not an id`);
    }
    if (tokenStringToBytes(token) === null) {
      fail(`model.vocab[${JSON.stringify(token)}]`, "is not a byte-level token string");
    }
    idOf.set(token, id as number);
  }
  return idOf;
}

/** The id of each of the 256 byte tokens, which the vocabulary must all have. */
export function byteIdsOf(idOf: ReadonlyMap<string, number>, fail: Fail): Int32Array {
  const byteIds = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    const id = idOf.get(BYTE_TO_CHAR[b]!);
    if (id === undefined) {
      fail("model.vocab", `lacks the byte token ${JSON.stringify(BYTE_TO_CHAR[b])} (byte ${b})`);
    }
    byteIds[b] = id!;
  }
  return byteIds;
}

/** `model.merges` ("a b" or ["a", "b"]) as id pairs and the id each pair merges into. */
export function parseMerges(
  list: unknown,
  idOf: ReadonlyMap<string, number>,
  fail: Fail,
): Pick<BpeModel, "merges" | "mergeIds"> {
  if (!Array.isArray(list)) return fail("model.merges", "is missing or not an array");
  const mergeList = list as unknown[];
  const merges = new Int32Array(mergeList.length * 2), mergeIds = new Int32Array(mergeList.length);
  mergeList.forEach((entry, i) => {
    const parts = typeof entry === "string" ? entry.split(" ") : entry;
    if (
      !Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== "string" ||
      typeof parts[1] !== "string"
    ) {
      return fail(`model.merges[${i}]`, `is ${JSON.stringify(entry)}, not a pair of tokens`);
    }
    const [left, right] = parts as [string, string];
    const a = idOf.get(left), b = idOf.get(right), z = idOf.get(left + right);
    if (a === undefined || b === undefined || z === undefined) {
      const missing = a === undefined ? left : b === undefined ? right : left + right;
      return fail(
        `model.merges[${i}]`,
        `uses ${JSON.stringify(missing)}, which is not in model.vocab`,
      );
    }
    merges[2 * i] = a;
    merges[2 * i + 1] = b;
    mergeIds[i] = z;
  });
  return { merges, mergeIds };
}

/** `added_tokens` as specials; an id must not be one of the vocabulary's. */
export function parseSpecials(
  added: unknown,
  idOf: ReadonlyMap<string, number>,
  fail: Fail,
): SpecialToken[] {
  if (!Array.isArray(added)) return fail("added_tokens", "is not an array");
  return added.map((token: unknown, i) => {
    if (!isObject(token) || typeof token.content !== "string" || !Number.isInteger(token.id)) {
      return fail(`added_tokens[${i}]`, "needs a string content and an integer id");
    }
    const clash = [...idOf].find(([, id]) => id === token.id);
    if (clash) {
      return fail(
        `added_tokens[${i}]`,
        `has id ${token.id}, already model.vocab[${JSON.stringify(clash[0])}]`,
      );
    }
    return { content: token.content, id: token.id as number };
  });
}
