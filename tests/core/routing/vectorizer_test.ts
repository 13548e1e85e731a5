import assert from "node:assert/strict";
import { Vectorizer } from "../../../core/routing/vectorizer.ts";

Deno.test("Vectorizer.fit() gives the most frequent n-grams the first columns and keeps idf aligned", () => {
  const hashing = { bits: 16, charMin: 1, charMax: 2, words: false };
  const texts = ["aaaa", "ab", "ac", "ad", "zq"];
  const counted = texts.map((t) => Vectorizer.count(t, hashing));
  const v = Vectorizer.fit(counted, hashing, 1);
  const { buckets, idf } = v.state;
  // Document frequency of each column's bucket, recomputed from the counts.
  const df = (b: number) => counted.filter((c) => c.buckets.includes(b)).length;
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(df(buckets[i - 1]!) >= df(buckets[i]!), `column ${i}`);
    if (df(buckets[i - 1]!) === df(buckets[i]!)) assert.ok(buckets[i - 1]! < buckets[i]!);
  }
  // "a" occurs in 4 of 5 texts: column 0, idf ln(6/5) + 1.
  assert.equal(df(buckets[0]!), 4);
  assert.ok(Math.abs(idf[0]! - (Math.log(6 / 5) + 1)) < 1e-6);
  // The same text weighs the same through any column order: unit L2 norm over n-gram columns.
  const x = v.transform("aab");
  let norm = 0;
  x.indices.forEach((j, k) => j < buckets.length && (norm += x.values[k]! ** 2));
  assert.ok(Math.abs(norm - 1) < 1e-6);
});
