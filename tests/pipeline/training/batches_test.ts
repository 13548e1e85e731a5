import assert from "node:assert/strict";
import { join } from "node:path";
import { openShard, type TokenShard } from "../../../core/tokenizer/mod.ts";
import { BatchSampler, learningRate, phaseOf } from "../../../pipeline/training/mod.ts";
import { byteShards } from "./_fixtures.ts";

const CLASSES = ["en", "fr", "de", "py"];

async function shards(): Promise<Map<string, TokenShard>> {
  const { dir } = await byteShards({ trainBytes: 8_000 });
  return new Map(
    await Promise.all(
      CLASSES.map(async (c) => [c, await openShard(join(dir, "train", `${c}.bin`))] as const),
    ),
  );
}

Deno.test("a balanced schedule gives every class an equal share of every batch", async () => {
  const s = new BatchSampler(await shards(), {
    batch: 8,
    seqLen: 16,
    schedule: "balanced",
    order: CLASSES,
    steps: 10,
    seed: 1,
  });
  for (let step = 1; step <= 5; step++) {
    const counts = new Map<string, number>();
    for (const c of (await s.next(step)).classes) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [2, 2, 2, 2]);
  }
});

Deno.test("a sequential schedule trains one class per phase in the given order", () => {
  assert.deepEqual([1, 25, 26, 50, 51, 100].map((s) => phaseOf(s, 100, 4)), [0, 0, 1, 1, 2, 3]);
});

Deno.test("batch targets are the inputs shifted by one token", async () => {
  const s = new BatchSampler(await shards(), {
    batch: 2,
    seqLen: 16,
    schedule: "mixed",
    order: CLASSES,
    steps: 10,
    seed: 3,
  });
  const { tokens, targets } = await s.next(1);
  for (let r = 0; r < 2; r++) {
    for (let t = 0; t < 15; t++) assert.equal(targets[r * 16 + t], tokens[r * 16 + t + 1]);
  }
});

Deno.test("a restored sampler draws the same batches as the original", async () => {
  const opts = {
    batch: 4,
    seqLen: 16,
    schedule: "mixed" as const,
    order: CLASSES,
    steps: 10,
    seed: 5,
  };
  const data = await shards();
  const a = new BatchSampler(data, opts), b = new BatchSampler(data, opts);
  await a.next(1);
  b.restore(a.state());
  for (let step = 2; step <= 4; step++) {
    assert.deepEqual(await b.next(step), await a.next(step));
  }
});

Deno.test("learningRate() warms up linearly then decays to the floor (cosine and linear)", () => {
  const base = { lr: 1, minLr: 0.1, warmup: 10, steps: 110 };
  const cos = { ...base, decay: "cosine" as const }, lin = { ...base, decay: "linear" as const };
  assert.equal(learningRate(cos, 1), 0.1);
  assert.equal(learningRate(cos, 10), 1);
  assert.ok(Math.abs(learningRate(cos, 60) - 0.55) < 1e-12); // half-way: midpoint of the cosine
  assert.ok(Math.abs(learningRate(lin, 60) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(cos, 35) - (0.1 + 0.45 * (1 + Math.cos(Math.PI / 4)))) < 1e-12);
  assert.ok(Math.abs(learningRate(lin, 110) - 0.1) < 1e-12);
});
