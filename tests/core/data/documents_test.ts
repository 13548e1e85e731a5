import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { type Document, readDocuments } from "../../../core/data/mod.ts";

async function collect(path: string, onInvalidUtf8?: (where: string) => void): Promise<Document[]> {
  const docs: Document[] = [];
  for await (const doc of readDocuments(path, onInvalidUtf8 ? { onInvalidUtf8 } : {})) {
    docs.push(doc);
  }
  return docs;
}

Deno.test("readDocuments() reads every document of a gzip JSONL fixture with ids and groups", async () => {
  const docs = await collect("fixtures/corpus/fr.jsonl.gz");
  assert.equal(docs.length, 48);
  assert.equal(new Set(docs.map((d) => d.group)).size, 6);
  assert.ok(docs.every((d) => d.text.length > 1000 && d.id.startsWith(d.group)));
});

Deno.test("readDocuments() reads plain JSONL and defaults id to file:line and group to id", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, '{"text":"a"}\n\n{"text":"b","group":"g"}\n');
  const docs = await collect(path);
  assert.deepEqual(docs, [
    { id: `${path}:1`, group: `${path}:1`, text: "a" },
    { id: `${path}:3`, group: "g", text: "b" },
  ]);
});

Deno.test("readDocuments() splits a .txt file on blank lines, one group per document", async () => {
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(path, "Call me Ishmael.\nSome years ago\n\n\n  \nsecond\n");
  const docs = await collect(path);
  assert.deepEqual(docs.map((d) => d.text), ["Call me Ishmael.\nSome years ago", "second"]);
  assert.equal(new Set(docs.map((d) => d.group)).size, 2);
});

Deno.test("readDocuments() reads a directory's .py/.txt/.md files grouped by top-level entry", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/pkg/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/pkg/a.py`, "import os\n");
  await Deno.writeTextFile(`${dir}/pkg/sub/b.md`, "# title\n");
  await Deno.writeTextFile(`${dir}/top.txt`, "hello\n");
  await Deno.writeTextFile(`${dir}/skip.bin`, "x");
  const docs = await collect(dir);
  assert.deepEqual(docs.map((d) => [d.id, d.group]), [
    ["pkg/a.py", "pkg"],
    ["pkg/sub/b.md", "pkg"],
    ["top.txt", "top.txt"],
  ]);
});

Deno.test("readDocuments() names file:line of a malformed JSON line", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl.gz" });
  await Deno.writeFile(
    path,
    gzipSync(new TextEncoder().encode('{"text":"ok"}\n{"text": broken\n')),
  );
  await assert.rejects(
    () => collect(path),
    (e: Error) => e instanceof SyntaxError && e.message.includes(`"${path}:2": malformed JSON`),
  );
});

Deno.test("readDocuments() rejects a record without a string text field", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, '{"body":"x"}\n');
  await assert.rejects(() => collect(path), /expected an object with a "text" field/);
});

Deno.test("readDocuments() skips and reports documents with invalid UTF-8", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  const bad = new Uint8Array([
    ...new TextEncoder().encode('{"text":"bad '),
    0xff,
    0xfe,
    ...new TextEncoder().encode('"}\n'),
  ]);
  await Deno.writeFile(
    path,
    new Uint8Array([...bad, ...new TextEncoder().encode('{"text":"good"}\n')]),
  );
  const invalid: string[] = [];
  const docs = await collect(path, (where) => invalid.push(where));
  assert.deepEqual(docs.map((d) => d.text), ["good"]);
  assert.deepEqual(invalid, [`${path}:1`]);
});

Deno.test("readDocuments() names a missing path and a corrupt gzip file", async () => {
  await assert.rejects(
    () => collect("/nonexistent/x.jsonl"),
    /Cannot read "\/nonexistent\/x.jsonl": no such file/,
  );
  const path = await Deno.makeTempFile({ suffix: ".jsonl.gz" });
  await Deno.writeFile(
    path,
    gzipSync(new TextEncoder().encode('{"text":"x"}\n'.repeat(100))).subarray(0, 20),
  );
  await assert.rejects(() => collect(path), new RegExp(`Cannot read "${path}"`));
});
