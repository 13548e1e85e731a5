import assert from "node:assert/strict";
import { pretokenize } from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureTexts } from "./_fixtures.ts";

Deno.test("pretokenize() pieces concatenate back to every fixture document", async () => {
  for (const cls of CLASSES) {
    for (const text of await fixtureTexts(cls)) assert.equal(pretokenize(text).join(""), text);
  }
});

Deno.test("pretokenize() joins a line break with the next line's indentation but its last space", () => {
  assert.deepEqual(pretokenize("if x:\n        y = 1\n"), [
    "if",
    " x",
    ":\n       ",
    " y",
    " =",
    " ",
    "1",
    "\n",
  ]);
  assert.deepEqual(pretokenize("a\n\n\n    b"), ["a", "\n\n\n   ", " b"]);
  assert.deepEqual(pretokenize("x\n\t\tif"), ["x", "\n\t", "\tif"]);
  assert.deepEqual(pretokenize("\tpass"), ["\tpass"]);
  assert.deepEqual(pretokenize("end.  \n"), ["end", ".", "  \n"]);
});

Deno.test("pretokenize() splits numbers in threes and keeps contractions apart", () => {
  assert.deepEqual(pretokenize("1234567"), ["123", "456", "7"]);
  assert.deepEqual(pretokenize("we'll"), ["we", "'ll"]);
  assert.deepEqual(pretokenize("L'école"), ["L", "'école"]);
});
