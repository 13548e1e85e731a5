import assert from "node:assert/strict";
import { readDocuments } from "../../../core/data/mod.ts";
import { trainingFiles, trainingTexts, trainTokenizer } from "../../../core/tokenizer/mod.ts";
import { balancedFixtures, CLASSES } from "./_fixtures.ts";

Deno.test("trainingTexts() reads only the train split of a balanced dataset", async () => {
  const data = await balancedFixtures();
  const expected: string[] = [];
  for (const cls of CLASSES) {
    for await (const doc of readDocuments(`${data}/train/${cls}.jsonl.gz`)) expected.push(doc.text);
  }
  const texts: string[] = [];
  for await (const text of trainingTexts([data])) texts.push(text);
  assert.deepEqual(texts, expected);
  assert.deepEqual(await trainingFiles([data]), CLASSES.map((c) => `${data}/train/${c}.jsonl.gz`));
});

Deno.test("trainTokenizer() puts the special tokens after the learned tokens", async () => {
  const data = await balancedFixtures();
  const result = await trainTokenizer(trainingTexts([data]), {
    vocabSize: 800,
    minFrequency: 2,
    threads: 1,
  });
  assert.equal(result.vocabSize, 800);
  assert.deepEqual(result.model.specials, [{ content: "<|endoftext|>", id: 798 }, {
    content: "<|pad|>",
    id: 799,
  }]);
  assert.equal(result.warning, undefined);
  await assert.rejects(
    () => trainTokenizer([], { vocabSize: 257, minFrequency: 2 }),
    /Vocab size 257 is below 256 bytes \+ 2 special tokens/,
  );
});

Deno.test("trainTokenizer() on two workers learns what one thread learns", async () => {
  const data = await balancedFixtures();
  const one = await trainTokenizer(trainingTexts([data]), {
    vocabSize: 600,
    minFrequency: 2,
    threads: 1,
  });
  const two = await trainTokenizer(trainingTexts([data]), {
    vocabSize: 600,
    minFrequency: 2,
    threads: 2,
  });
  assert.deepEqual(Array.from(two.model.merges), Array.from(one.model.merges));
});

Deno.test("trainTokenizer() refuses texts with no text in them, naming the source", async () => {
  for (const texts of [[], ["", ""]]) {
    await assert.rejects(
      () =>
        trainTokenizer(texts, { vocabSize: 300, minFrequency: 2, threads: 1, source: '"e.txt"' }),
      RangeError,
      `Cannot train a tokenizer on "e.txt": no text to learn from (${texts.length} documents)`,
    );
  }
});
