import assert from "node:assert/strict";
import { moe } from "../_support/cli.ts";

const CORPUS = ["en", "fr", "de", "py"].map((c) => `fixtures/corpus/${c}.jsonl.gz`);

async function trained(vocab = 1500): Promise<{ dir: string; tok: string }> {
  const dir = await Deno.makeTempDir();
  const tok = `${dir}/tok.json`;
  const { code, stderr } = await moe([
    "tokenizer",
    "train",
    ...CORPUS,
    "--vocab-size",
    String(vocab),
    "--out",
    tok,
  ]);
  assert.equal(code, 0, stderr);
  return { dir, tok };
}

Deno.test("moe tokenizer train --json trains on corpus files and reports the vocab", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/tok.json`;
  const { code, stdout, stderr } = await moe([
    "tokenizer",
    "train",
    ...CORPUS,
    "--vocab-size",
    "1000",
    "--out",
    out,
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const summary = JSON.parse(stdout);
  assert.equal(summary.vocabSize, 1000);
  assert.deepEqual(summary.specials, [{ content: "<|endoftext|>", id: 998 }, {
    content: "<|pad|>",
    id: 999,
  }]);
  assert.equal(JSON.parse(await Deno.readTextFile(out)).model.type, "BPE");
});

Deno.test("moe tokenizer train exits 2 when the vocab cannot hold the bytes and special tokens", async () => {
  const { code, stderr } = await moe([
    "tokenizer",
    "train",
    CORPUS[0]!,
    "--vocab-size",
    "257",
    "--out",
    "/tmp/never.json",
  ]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /^moe: Invalid --vocab-size 257: it is below 256 bytes \+ 2 special tokens\n$/,
  );
});

Deno.test("moe tokenizer train warns and writes the real size when the corpus is too small", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/tiny.txt`, "tiny corpus, tiny corpus\n");
  const { code, stdout, stderr } = await moe([
    "tokenizer",
    "train",
    `${dir}/tiny.txt`,
    "--out",
    `${dir}/tok.json`,
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /warning: .*stopped at vocab size \d+ instead of 32000/);
  const summary = JSON.parse(stdout);
  assert.equal(summary.vocabSize < 300, true);
  assert.equal(
    Object.keys(JSON.parse(await Deno.readTextFile(`${dir}/tok.json`)).model.vocab).length,
    summary.vocabSize - 2,
  );
});

Deno.test("moe tokenizer encode --text and decode round-trip, and decode names a bad id", async () => {
  const { tok } = await trained();
  const text = "def main():\n    return 'héllo 😀'\n";
  const enc = await moe(["tokenizer", "encode", "--tokenizer", tok, "--text", text, "--json"]);
  assert.equal(enc.code, 0, enc.stderr);
  const { ids } = JSON.parse(enc.stdout);
  const dec = await moe(["tokenizer", "decode", "--tokenizer", tok, ...ids.map(String), "--json"]);
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(JSON.parse(dec.stdout).text, text);
  const bad = await moe(["tokenizer", "decode", "--tokenizer", tok, "5", "1500"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^moe: Cannot decode id 1500 at position 1: ids must be integers in \[0, 1499\]\n$/,
  );
});

Deno.test("moe tokenizer encode writes shards of a balanced dataset, and info reports compression", async () => {
  const { dir, tok } = await trained();
  const data = `${dir}/balanced`;
  const bal = await moe([
    "balance",
    ...CORPUS.flatMap((p, i) => ["--input", `${["en", "fr", "de", "py"][i]}=${p}`]),
    "--split",
    "0.8,0.1,0.1",
    "--out",
    data,
  ]);
  assert.equal(bal.code, 0, bal.stderr);
  const enc = await moe([
    "tokenizer",
    "encode",
    "--data",
    data,
    "--tokenizer",
    tok,
    "--out",
    `${dir}/tokens`,
    "--json",
  ]);
  assert.equal(enc.code, 0, enc.stderr);
  const manifest = JSON.parse(enc.stdout);
  assert.equal(manifest.format, "moe-token-shards");
  assert.equal(Object.keys(manifest.shards).length, 12);
  const again = await moe([
    "tokenizer",
    "encode",
    "--data",
    data,
    "--tokenizer",
    tok,
    "--out",
    `${dir}/tokens`,
  ]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const dec = await moe([
    "tokenizer",
    "decode",
    "--tokenizer",
    tok,
    "--shard",
    `${dir}/tokens/val/py.bin`,
    "--count",
    "50",
  ]);
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(dec.stdout.length > 50, true);
  const info = await moe(["tokenizer", "info", "--tokenizer", tok, "--data", data, "--json"]);
  assert.equal(info.code, 0, info.stderr);
  const parsed = JSON.parse(info.stdout);
  assert.equal(parsed.vocabSize, 1500);
  assert.deepEqual(parsed.compression.map((c: { class: string }) => c.class), [
    "en",
    "fr",
    "de",
    "py",
  ]);
  for (const c of parsed.compression) assert.equal(c.bytesPerToken > 2, true);
});

Deno.test("moe tokenizer info names the field of a foreign tokenizer.json", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/bert.json`,
    JSON.stringify({ model: { type: "WordPiece", vocab: {} } }),
  );
  const { code, stderr } = await moe(["tokenizer", "info", "--tokenizer", `${dir}/bert.json`]);
  assert.equal(code, 1);
  assert.match(
    stderr,
    /^moe: Cannot load tokenizer ".*bert\.json": model\.type "WordPiece" is not supported \(supported: BPE\)\n$/,
  );
});
