/**
 * Byte-level helpers: the GPT-2 byte ↔ printable-character table that Hugging Face `ByteLevel`
 * uses to write byte tokens as strings, and UTF-8 validation so byte input with invalid sequences
 * still encodes exactly.
 *
 * @module
 */

/**
 * The GPT-2 `bytes_to_unicode` table: byte `b` is written as character `BYTE_TO_CHAR[b]`.
 * Printable Latin-1 bytes map to themselves; the other 68 (controls, space, soft hyphen, …) map to
 * U+0100 onwards in byte order, so that no token string contains whitespace or a control character
 * (space becomes "Ġ", newline "Ċ").
 *
 * @example
 * ```ts
 * import { BYTE_TO_CHAR } from "./bytes.ts";
 * console.assert(BYTE_TO_CHAR[0x20] === "Ġ" && BYTE_TO_CHAR[0x0a] === "Ċ" && BYTE_TO_CHAR[0x61] === "a");
 * ```
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : next++));
  return table;
})();

/** Inverse of {@linkcode BYTE_TO_CHAR}: character code → byte, or -1. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x200).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => table[ch.charCodeAt(0)] = b);
  return table;
})();

/**
 * Writes bytes as a byte-level token string (the form used in `tokenizer.json`).
 *
 * @param bytes Raw bytes of a token.
 * @returns The token string.
 *
 * @example
 * ```ts
 * import { bytesToTokenString } from "./bytes.ts";
 * console.assert(bytesToTokenString(new TextEncoder().encode(" the")) === "Ġthe");
 * ```
 */
export function bytesToTokenString(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/**
 * Reads a byte-level token string back into bytes.
 *
 * @param token A token string from `tokenizer.json`.
 * @returns Its bytes, or `null` if a character is not in the byte-level alphabet.
 *
 * @example
 * ```ts
 * import { tokenStringToBytes } from "./bytes.ts";
 * console.assert(new TextDecoder().decode(tokenStringToBytes("Ġthe")!) === " the");
 * console.assert(tokenStringToBytes("the cat") === null);
 * ```
 */
export function tokenStringToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const b = code < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[code]! : -1;
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}

/**
 * The length of the longest prefix of `bytes[from..]` that is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), in bytes.
 *
 * @param bytes Input bytes.
 * @param from Start offset.
 * @returns Number of valid bytes from `from`.
 *
 * @example
 * ```ts
 * import { validUtf8Prefix } from "./bytes.ts";
 * console.assert(validUtf8Prefix(new Uint8Array([0x61, 0xc3, 0xa9, 0xff, 0x62]), 0) === 3);
 * ```
 */
export function validUtf8Prefix(bytes: Uint8Array, from: number): number {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0; // subtle: excludes overlong 3-byte forms
      if (b0 === 0xed) hi = 0x9f; // subtle: excludes UTF-16 surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      if (b0 === 0xf4) hi = 0x8f;
    } else break;
    if (i + need >= n) break; // truncated sequence at the end
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) break;
    let ok = true;
    for (let k = 2; k <= need; k++) {
      const bk = bytes[i + k]!;
      if (bk < 0x80 || bk > 0xbf) ok = false;
    }
    if (!ok) break;
    i += need + 1;
  }
  return i - from;
}
