import assert from "node:assert/strict";
import { join } from "node:path";
import {
  encodeDataset,
  loadTokenizer,
  openTokens,
  readShard,
  saveTokenizer,
} from "../../../core/tokenizer/mod.ts";
import { readDocuments } from "../../../core/data/mod.ts";
import { balancedFixtures, fixtureModel } from "./_fixtures.ts";

Deno.test("encodeDataset() writes one shard per split and class that decodes back to the documents", async () => {
  const data = await balancedFixtures();
  const tmp = await Deno.makeTempDir();
  const tokPath = join(tmp, "tok.json");
  await saveTokenizer(tokPath, await fixtureModel());
  const tok = await loadTokenizer(tokPath);
  const out = join(tmp, "tokens");
  await Deno.mkdir(out);
  const manifest = await encodeDataset(data, out, { tokenizer: tok, tokenizerPath: tokPath });
  assert.deepEqual(await openTokens(out), manifest);
  assert.equal(manifest.tokenizer.fingerprint, tok.fingerprint);
  assert.equal(manifest.dtype, "uint16");
  assert.equal(Object.keys(manifest.shards).length, 12);
  const eot = tok.specialId("<|endoftext|>");
  for (const [rel, entry] of Object.entries(manifest.shards)) {
    const { header, tokens } = await readShard(join(out, rel));
    assert.equal(header.tokens, entry.tokens);
    assert.equal(header.fingerprint, tok.fingerprint);
    const docs: string[] = [];
    let from = 0;
    tokens.forEach((id, i) => {
      if (id === eot) {
        docs.push(tok.decode(tokens.subarray(from, i)));
        from = i + 1;
      }
    });
    const expected: string[] = [];
    for await (const doc of readDocuments(join(data, rel.replace(".bin", ".jsonl.gz")))) {
      expected.push(doc.text);
    }
    assert.deepEqual(docs, expected, rel);
    assert.equal(entry.documents, expected.length);
  }
});

Deno.test("encodeDataset() on two workers writes the same shards as one thread", async () => {
  const data = await balancedFixtures();
  const tmp = await Deno.makeTempDir();
  const tokPath = join(tmp, "tok.json");
  await saveTokenizer(tokPath, await fixtureModel());
  const tokenizer = await loadTokenizer(tokPath);
  await Deno.mkdir(join(tmp, "one"));
  await Deno.mkdir(join(tmp, "two"));
  const one = await encodeDataset(data, join(tmp, "one"), { tokenizer, tokenizerPath: tokPath });
  const two = await encodeDataset(data, join(tmp, "two"), {
    tokenizer,
    tokenizerPath: tokPath,
    threads: 2,
  });
  assert.deepEqual(two, one);
  for (const rel of Object.keys(one.shards)) {
    assert.deepEqual(
      await Deno.readFile(join(tmp, "two", rel)),
      await Deno.readFile(join(tmp, "one", rel)),
    );
  }
});
