import assert from "node:assert/strict";
import { pieceEnd } from "../../../core/tokenizer/_scanner.ts";
import { pretokenize } from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureTexts } from "./_fixtures.ts";

function scan(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0, end = 0; i < text.length; i = end) {
    pieces.push(text.slice(i, end = pieceEnd(text, i)));
  }
  return pieces;
}

Deno.test("pieceEnd() splits every fixture document exactly like the split regex", async () => {
  for (const cls of CLASSES) {
    for (const text of await fixtureTexts(cls)) assert.deepEqual(scan(text), pretokenize(text));
  }
});

Deno.test("pieceEnd() agrees with the split regex on 100 000 random strings of tricky characters", () => {
  const alphabet = [
    ..."aZé'sSlLvVeErRdDmMtT0123456789٣ ",
    " ",
    " ",
    "\t",
    "\n",
    "\r",
    "\v",
    "\f",
    "\u0085",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\ufeff",
    "\u200b",
    ".",
    ",",
    "(",
    ")",
    ":",
    "#",
    "_",
    "-",
    "\u0301",
    "漢",
    "😀",
    "𝐀",
    "𝟙",
    "\ud800",
    "\udc00",
    "'",
  ];
  let seed = 99;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let n = 0; n < 100_000; n++) {
    let text = "";
    for (let i = 0, len = Math.floor(next() * 10); i < len; i++) {
      text += alphabet[Math.floor(next() * alphabet.length)];
    }
    assert.deepEqual(scan(text), pretokenize(text), JSON.stringify(text));
  }
});
