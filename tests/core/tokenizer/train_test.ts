import assert from "node:assert/strict";
import {
  countPairs,
  countWords,
  mergePair,
  pairKey,
  trainBpe,
} from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureTexts } from "./_fixtures.ts";

/**
 * The minbpe way, slow and obvious: recount every pair of every word before each merge.
 * Same rules as the fast trainer: highest count, ties to the smaller (left, right); a merge whose
 * bytes already exist reuses that id.
 */
function naiveTrain(wordCounts: Map<string, number>, vocabSize: number, minFrequency: number) {
  const utf8 = new TextEncoder();
  let words = [...wordCounts].map(([w, c]) => ({ ids: Array.from(utf8.encode(w)), c }));
  const keys: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const merges: number[] = [];
  while (keys.length < vocabSize) {
    const counts = new Map<number, number>();
    for (const { ids, c } of words) countPairs(ids, counts, c);
    let best = -1, bestCount = 0;
    for (const [key, c] of counts) {
      if (c > bestCount || (c === bestCount && key < best)) [best, bestCount] = [key, c];
    }
    if (best < 0 || bestCount < minFrequency) break;
    const a = Math.floor(best / 2097152), b = best % 2097152;
    const key = keys[a]! + keys[b]!;
    let id = keys.indexOf(key);
    if (id < 0) id = keys.push(key) - 1;
    merges.push(a, b);
    words = words.map(({ ids, c }) => ({ ids: mergePair(ids, a, b, id), c }));
  }
  return { merges, vocabSize: keys.length };
}

async function smallCorpus(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const cls of CLASSES) {
    for (const text of (await fixtureTexts(cls)).slice(0, 4)) countWords(text, counts);
  }
  return counts;
}

Deno.test("countPairs() weights pairs and mergePair() merges leftmost-first", () => {
  const counts = countPairs([5, 5, 5], new Map(), 3);
  assert.equal(counts.get(pairKey(5, 5)), 6);
  assert.deepEqual(mergePair([5, 5, 5, 5], 5, 5, 300), [300, 300]);
  assert.deepEqual(mergePair([1, 2, 1, 2, 1], 2, 1, 300), [1, 300, 300]);
});

Deno.test("trainBpe() learns exactly the merges of a full recount per merge", async () => {
  const counts = await smallCorpus();
  const fast = trainBpe(counts, { vocabSize: 700, minFrequency: 2 });
  const slow = naiveTrain(counts, 700, 2);
  assert.equal(fast.vocabSize, 700);
  assert.deepEqual(Array.from(fast.merges), slow.merges);
});

Deno.test("trainBpe() matches the recount on words built to repeat pairs and reuse byte strings", () => {
  const counts = new Map([
    ["aaaaaaa", 5],
    ["abababab", 4],
    ["abcabc", 3],
    ["bcab", 3],
    ["cabca", 2],
    ["aab", 2],
    ["abb", 2],
  ]);
  const fast = trainBpe(counts, { vocabSize: 280, minFrequency: 1 });
  const slow = naiveTrain(counts, 280, 1);
  assert.deepEqual(Array.from(fast.merges), slow.merges);
  assert.equal(fast.vocabSize, slow.vocabSize);
});

Deno.test("trainBpe() never gives one byte string two ids", async () => {
  const trained = trainBpe(await smallCorpus(), { vocabSize: 2000, minFrequency: 1 });
  const bytes = new Map<number, string>();
  for (let b = 0; b < 256; b++) bytes.set(b, String.fromCharCode(b));
  const seen = new Set(bytes.values());
  trained.mergeIds.forEach((id, i) => {
    const key = bytes.get(trained.merges[2 * i]!)! + bytes.get(trained.merges[2 * i + 1]!)!;
    if (!bytes.has(id)) {
      assert.equal(seen.has(key), false, `id ${id} repeats bytes of an earlier token`);
      seen.add(key);
      bytes.set(id, key);
    } else assert.equal(bytes.get(id), key);
  });
  assert.equal(seen.size, trained.vocabSize);
});

Deno.test("trainBpe() stops early with the real size when the corpus has too few pairs", () => {
  const trained = trainBpe(new Map([["hello", 3], [" world", 2]]), {
    vocabSize: 32000,
    minFrequency: 2,
  });
  // "hello" (4 pairs) and " world" (5 pairs) can merge into one token each at most.
  assert.equal(trained.vocabSize < 256 + 10, true);
  assert.equal(trained.vocabSize, 256 + trained.mergeIds.length);
});

Deno.test("trainBpe() respects minFrequency", () => {
  const trained = trainBpe(new Map([["ab", 5], ["cd", 1]]), { vocabSize: 300, minFrequency: 2 });
  assert.deepEqual(Array.from(trained.merges), [97, 98]);
});
