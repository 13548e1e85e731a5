import assert from "node:assert/strict";
import { join } from "node:path";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import { readShard } from "../../../core/tokenizer/mod.ts";
import { train } from "../../../pipeline/training/mod.ts";
import { byteShards, metrics, trainOptions, withoutTiming } from "./_fixtures.ts";

const CLASSES = ["en", "fr", "de", "py"];

const options = trainOptions;

/** Unigram entropy (nats) of the train shards: what a model that ignores context reaches. */
async function unigramEntropy(dir: string): Promise<number> {
  const counts = new Float64Array(258);
  let n = 0;
  for (const c of CLASSES) {
    for (const t of (await readShard(join(dir, "train", `${c}.bin`))).tokens) counts[t]!++, n++;
  }
  let h = 0;
  for (const k of counts) if (k > 0) h -= (k / n) * Math.log(k / n);
  return h;
}

const cpu = async () => (await openBackend("cpu", { threads: 1 })).backend;

Deno.test("a tiny teacher lowers validation loss well below the unigram entropy", async () => {
  const { dir, tokenizer } = await byteShards();
  const out = await Deno.makeTempDir();
  const summary = await train(options(dir, 500), {
    backend: await cpu(),
    out,
    tokenizerPath: tokenizer,
  });
  const h = await unigramEntropy(dir);
  const mean = CLASSES.reduce((s, c) => s + summary.val[c]!.loss, 0) / CLASSES.length;
  assert.ok(mean < h - 0.35, `mean val loss ${mean} vs unigram entropy ${h}`);
  for (const file of ["model.onnx", "config.json", "tokenizer.json", "state.safetensors"]) {
    assert.ok((await Deno.stat(join(summary.checkpoint, file))).size > 0, file);
  }
  assert.equal((await Deno.readTextFile(join(out, "latest"))).trim(), "step-000500");
  // The checkpoint's model.onnx is a plain inference model: tokens [1, ctx] → logits [1, ctx, V]
  const session = await (await cpu()).createSession(
    await Deno.readFile(join(summary.checkpoint, "model.onnx")),
  );
  const tokens = { dtype: "int64" as const, dims: [1, 64], data: new BigInt64Array(64).fill(101n) };
  const { logits } = await session.run({ tokens: session.wrap(tokens) });
  assert.deepEqual((await session.download(logits!)).dims, [1, 64, 258]);
  await session.dispose();
});

Deno.test("a resumed run logs exactly the losses of an uninterrupted run", async () => {
  const { dir, tokenizer } = await byteShards({ trainBytes: 10_000 });
  const backend = await cpu();
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const o = options(dir, 24, { checkpointEvery: 8, evalEvery: 12 });
  await train(o, { backend, out: full, tokenizerPath: tokenizer });
  // Crash after step 13: the checkpoint of step 8 survives, steps 9–13 were logged past it.
  await train(o, { backend, out: cut, tokenizerPath: tokenizer, haltAfter: 13 });
  assert.equal((await metrics(cut)).length, 14);
  await train(o, { backend, out: cut, tokenizerPath: tokenizer, resume: true });
  const resumed = await metrics(cut), uninterrupted = await metrics(full);
  assert.equal(resumed.length, uninterrupted.length);
  assert.deepEqual(resumed.map(withoutTiming), uninterrupted.map(withoutTiming));
});

Deno.test("with dropout and accumulation, a resumed run logs exactly the losses of an uninterrupted run", async () => {
  const { dir, tokenizer } = await byteShards({ trainBytes: 10_000 });
  const backend = await cpu();
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const plain = await Deno.makeTempDir();
  const o = options(dir, 10, { checkpointEvery: 4, evalEvery: 5, batch: 4, accumulate: 2 });
  const dropping = { ...o, model: { ...o.model, dropout: 0.1 } };
  await train(dropping, { backend, out: full, tokenizerPath: tokenizer });
  await train(dropping, { backend, out: cut, tokenizerPath: tokenizer, haltAfter: 6 });
  await train(dropping, { backend, out: cut, tokenizerPath: tokenizer, resume: true });
  const resumed = await metrics(cut), uninterrupted = await metrics(full);
  assert.deepEqual(resumed.map(withoutTiming), uninterrupted.map(withoutTiming));
  // The masks are on: the same run without dropout logs other training losses.
  await train(o, { backend, out: plain, tokenizerPath: tokenizer });
  const losses = async (out: string) =>
    (await metrics(out)).filter((m) => m.loss !== undefined).map((m) => m.loss);
  assert.notDeepEqual(await losses(plain), await losses(full));
});

Deno.test("a sequential run raises the first class's loss while later classes train", async () => {
  const { dir, tokenizer } = await byteShards({ classes: ["py", "de"], trainBytes: 30_000 });
  const out = await Deno.makeTempDir();
  await train(options(dir, 400, { schedule: "sequential", order: ["py", "de"] }), {
    backend: await cpu(),
    out,
    tokenizerPath: tokenizer,
  });
  const evals = (await metrics(out)).filter((m) => m.event === "eval") as {
    phase?: string;
    val: Record<string, { loss: number }>;
  }[];
  assert.equal(evals.length, 2);
  assert.equal(evals[0]!.phase, "py");
  const [afterPy, afterDe] = [evals[0]!.val, evals[1]!.val];
  assert.ok(
    afterDe.py!.loss > afterPy.py!.loss + 0.1,
    `py ${afterPy.py!.loss} → ${afterDe.py!.loss}`,
  );
  assert.ok(afterDe.de!.loss < afterPy.de!.loss, `de ${afterPy.de!.loss} → ${afterDe.de!.loss}`);
});

Deno.test("a diverging run stops at the first non-finite loss and keeps the last good checkpoint", async () => {
  const { dir, tokenizer } = await byteShards({ trainBytes: 10_000 });
  const out = await Deno.makeTempDir();
  const o = options(dir, 20, {
    checkpointEvery: 1,
    lr: { lr: 1e30, minLr: 1e30, warmup: 0, steps: 20, decay: "constant" },
    adamw: { ...ADAMW_DEFAULTS, clipNorm: 0 },
  });
  await assert.rejects(
    train(o, { backend: await cpu(), out, tokenizerPath: tokenizer }),
    /Training diverged at step (\d+).*last good checkpoint ".*step-0+(\d+)" is kept/,
  );
  const last = (await metrics(out)).at(-1)!;
  assert.equal(last.event, "diverged");
  const kept = Number((await Deno.readTextFile(join(out, "latest"))).trim().slice(5));
  assert.equal(kept, (last.step as number) - 1);
});

Deno.test("token shards with another vocab size than the model are refused by name", async () => {
  const { dir, tokenizer } = await byteShards({
    classes: ["en"],
    trainBytes: 5_000,
    vocabSize: 300,
  });
  await assert.rejects(
    train(options(dir, 2, { order: ["en"] }), {
      backend: await cpu(),
      out: await Deno.makeTempDir(),
      tokenizerPath: tokenizer,
    }),
    /Cannot train on ".*train\/en\.bin": its vocab size 300 differs from the model's 258/,
  );
});

Deno.test("gradient accumulation over two micro-batches trains like one batch of twice the rows", async () => {
  const { dir, tokenizer } = await byteShards({ trainBytes: 10_000 });
  const backend = await cpu();
  const run = async (batch: number, accumulate: number) => {
    const out = await Deno.makeTempDir();
    await train(options(dir, 3, { batch, accumulate }), { backend, out, tokenizerPath: tokenizer });
    return (await metrics(out)).filter((m) => m.event === "train").map((m) => m.loss as number);
  };
  const [one, two] = [await run(8, 1), await run(4, 2)];
  one.forEach((l, i) => assert.ok(Math.abs(l - two[i]!) < 1e-4, `${one} vs ${two}`));
});
