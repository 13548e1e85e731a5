import assert from "node:assert/strict";
import { readDocuments } from "../../../core/data/mod.ts";
import { measureCompression } from "../../../core/tokenizer/mod.ts";
import { balancedFixtures, CLASSES, fixtureTokenizer } from "./_fixtures.ts";

Deno.test("measureCompression() counts the bytes and tokens of each class of a split", async () => {
  const data = await balancedFixtures();
  const tok = await fixtureTokenizer();
  const rows = await measureCompression(tok, data, "val");
  assert.deepEqual(rows.map((r) => r.class), CLASSES);
  const utf8 = new TextEncoder();
  for (const row of rows) {
    let bytes = 0, tokens = 0;
    for await (const doc of readDocuments(`${data}/val/${row.class}.jsonl.gz`)) {
      bytes += utf8.encode(doc.text).length;
      tokens += tok.encode(doc.text).length;
    }
    assert.deepEqual([row.bytes, row.tokens], [bytes, tokens]);
    assert.equal(row.bytesPerToken, bytes / tokens);
  }
  await assert.rejects(
    () => measureCompression(tok, data, "dev"),
    /no split "dev" \(it has train, val, test\)/,
  );
});
