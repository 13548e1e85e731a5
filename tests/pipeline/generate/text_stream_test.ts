import assert from "node:assert/strict";
import { TokenTextStream } from "../../../pipeline/generate/mod.ts";
import { loadTokenizer, saveTokenizer, trainTokenizer } from "../../../core/tokenizer/mod.ts";
import { readFixtureText } from "../../_support/fixture_text.ts";

const bytesTokenizer = { tokenBytes: (id: number) => Uint8Array.of(id) };

Deno.test("TokenTextStream rebuilds emoji, CJK and accents fed one byte per token", () => {
  const text = "héllo 👋 世界 — ok";
  const stream = new TokenTextStream(bytesTokenizer);
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += stream.push(b);
  assert.equal(out + stream.flush(), text);
});

Deno.test("TokenTextStream holds an incomplete character back and flushes it as U+FFFD", () => {
  const stream = new TokenTextStream(bytesTokenizer);
  assert.equal(stream.push(0x61), "a");
  assert.equal(stream.push(0xf0), "");
  assert.equal(stream.push(0x9f), "");
  assert.equal(stream.flush(), "\ufffd");
});

Deno.test("TokenTextStream over a trained tokenizer gives the decoded text of a whole fixture", async () => {
  const text = await readFixtureText("de", 3000);
  const result = await trainTokenizer([text], { vocabSize: 400, minFrequency: 2, threads: 1 });
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await saveTokenizer(path, result.model);
  const tok = await loadTokenizer(path);
  await Deno.remove(path);
  const stream = new TokenTextStream(tok);
  let out = "";
  for (const id of tok.encode(text)) out += stream.push(id);
  assert.equal(out + stream.flush(), text);
});
