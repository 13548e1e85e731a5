import assert from "node:assert/strict";
import { countWords, WordCounter } from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureTexts } from "./_fixtures.ts";

Deno.test("WordCounter on two workers counts the fixture corpus like a single thread", async () => {
  const inline = new Map<string, number>();
  const counter = new WordCounter(2);
  for (const cls of CLASSES) {
    for (const text of await fixtureTexts(cls)) {
      countWords(text, inline);
      await counter.add(text);
    }
  }
  const counted = await counter.finish();
  assert.equal(counted.size, inline.size);
  for (const [word, c] of inline) assert.equal(counted.get(word), c, JSON.stringify(word));
});
