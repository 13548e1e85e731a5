import assert from "node:assert/strict";
import {
  openShard,
  readShard,
  SHARD_HEADER_BYTES,
  ShardWriter,
} from "../../../core/tokenizer/mod.ts";

const fingerprint = "0123456789abcdef".repeat(4);

async function writeShard(vocabSize: number, docs: number[][]): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".bin" });
  const writer = await ShardWriter.create(path, { vocabSize, eotId: vocabSize - 2, fingerprint });
  for (const doc of docs) await writer.writeDocument(doc);
  await writer.close();
  return path;
}

Deno.test("a shard stores uint16 ids with <|endoftext|> after each document and a documented header", async () => {
  const path = await writeShard(32000, [[1, 2, 3], [], [31999]]);
  const bytes = await Deno.readFile(path);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "MOETOKS\0");
  const view = new DataView(bytes.buffer);
  assert.deepEqual([
    view.getUint32(8, true),
    view.getUint32(12, true),
    view.getUint32(16, true),
    view.getUint32(20, true),
  ], [1, 2, 32000, 31998]);
  assert.equal(view.getBigUint64(24, true), 7n);
  assert.equal(view.getBigUint64(32, true), 3n);
  assert.equal(bytes.length, SHARD_HEADER_BYTES + 7 * 2);
  const { header, tokens } = await readShard(path);
  assert.equal(tokens instanceof Uint16Array, true);
  assert.deepEqual(Array.from(tokens), [1, 2, 3, 31998, 31998, 31999, 31998]);
  assert.equal(header.fingerprint, fingerprint);
});

Deno.test("a shard switches to uint32 above 65 535 ids", async () => {
  const path = await writeShard(70000, [[69999, 65536]]);
  const { header, tokens } = await readShard(path);
  assert.equal(header.bytesPerToken, 4);
  assert.deepEqual(Array.from(tokens), [69999, 65536, 69998]);
});

Deno.test("openShard() reads windows without loading the file, across buffer flushes", async () => {
  const doc = Array.from({ length: 1_200_000 }, (_, i) => i % 1000);
  const path = await writeShard(32000, [doc]);
  const shard = await openShard(path);
  try {
    assert.equal(shard.header.tokens, 1_200_001);
    assert.deepEqual(Array.from(await shard.read(999_998, 4)), [998, 999, 0, 1]);
    assert.deepEqual(Array.from(await shard.read(1_199_999, 10)), [999, 31998]);
    let windows = 0, last: number[] = [];
    for await (const w of shard.windows(300_000)) {
      windows++;
      last = Array.from(w.subarray(0, 2));
    }
    assert.equal(windows, 4);
    assert.deepEqual(last, [0, 1]);
  } finally {
    shard.close();
  }
});

Deno.test("openShard() rejects a foreign or truncated file", async () => {
  const foreign = await Deno.makeTempFile();
  await Deno.writeFile(foreign, new Uint8Array(200));
  await assert.rejects(() => openShard(foreign), /bad magic/);
  const path = await writeShard(32000, [[1, 2, 3]]);
  await Deno.truncate(path, SHARD_HEADER_BYTES + 3);
  await assert.rejects(() => openShard(path), /does not match 4 tokens/);
});
