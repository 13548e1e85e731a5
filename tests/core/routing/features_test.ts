import assert from "node:assert/strict";
import { CountScratch, hashedCounts, normalizeText } from "../../../core/routing/features.ts";

Deno.test("normalizeText() lowercases, drops digits and keeps line structure", () => {
  assert.equal(normalizeText("Année 1848,\n\n  Paris  X"), "année ,\n paris x");
  assert.equal(normalizeText("a\tb\r\nc"), "a b\nc");
});

Deno.test("hashedCounts() counts every character n-gram and word exactly once", () => {
  const text = "the cat sat on the mat";
  const config = { bits: 20, charMin: 1, charMax: 4, words: true };
  const { buckets, counts } = hashedCounts(text, config, new CountScratch());
  // Reference: n-grams of orders 1..4 = Σ (n − order + 1); words = 6.
  const n = text.length;
  const expected = [1, 2, 3, 4].reduce((a, o) => a + n - o + 1, 0) + 6;
  assert.equal(counts.reduce((a, c) => a + c, 0), expected);
  // Buckets distinct.
  assert.equal(new Set(buckets).size, buckets.length);
  // "the" occurs twice as a word and the trigram "the" twice: some bucket has count ≥ 2.
  assert.ok(Math.max(...counts) >= 2);
});

Deno.test("hashedCounts() leaves its scratch zeroed so results do not leak between texts", () => {
  const config = { bits: 12, charMin: 1, charMax: 3, words: false };
  const scratch = new CountScratch();
  const first = hashedCounts("abc abc", config, scratch);
  hashedCounts("zzz", config, scratch);
  const again = hashedCounts("abc abc", config, scratch);
  assert.deepEqual(again, first);
  assert.ok(scratch.isClear());
});
