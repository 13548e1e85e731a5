import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkResumeData,
  findResumePoint,
  removeLeftovers,
  resumedRunOptions,
  train,
  type TrainOptions,
} from "../../../pipeline/training/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import { byteShards, trainOptions } from "./_fixtures.ts";

const saved = trainOptions("tokens", 10);

Deno.test("resumedRunOptions() applies a longer run, another shard folder and how often it evaluates", () => {
  const o = resumedRunOptions("run", saved, {
    ...saved,
    data: "moved",
    lr: { ...saved.lr, steps: 30 },
    evalEvery: 5,
    checkpointEvery: 5,
    keep: 3,
  }, 10);
  assert.deepEqual(o, {
    ...saved,
    data: "moved",
    lr: { ...saved.lr, steps: 30 },
    evalEvery: 5,
    checkpointEvery: 5,
    keep: 3,
  });
});

Deno.test("resumedRunOptions() refuses any other change, naming the field and both values", () => {
  const cases: [Partial<TrainOptions>, string][] = [
    [
      { batch: 16 },
      'Cannot resume "run": its batch is 8, not 16 (a resumed run keeps its options)',
    ],
    [{ lr: { ...saved.lr, lr: 1 } }, "its lr.lr is 0.003, not 1"],
    [{ model: { ...saved.model, dropout: 0.1 } }, "its model.dropout is none, not 0.1"],
    [
      { order: ["fr", "en", "de", "py"] },
      'its order is ["en","fr","de","py"], not ["fr","en","de","py"]',
    ],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => resumedRunOptions("run", saved, { ...saved, ...change }, 4), {
      name: "RangeError",
      message: new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    });
  }
  assert.throws(
    () => resumedRunOptions("run", saved, { ...saved, lr: { ...saved.lr, steps: 3 } }, 4),
    /Cannot resume "run" for 3 steps: its checkpoint is at step 4/,
  );
  const sequential = { ...saved, schedule: "sequential" as const };
  assert.throws(
    () =>
      resumedRunOptions("run", sequential, { ...sequential, lr: { ...saved.lr, steps: 20 } }, 4),
    /a sequential run's phases are cut from its length \(10 steps\)/,
  );
});

Deno.test("removeLeftovers() removes only the temporaries of run writes", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(join(out, ".step-000004.tmp-123"));
  await Deno.writeTextFile(join(out, ".latest.tmp-123-abc"), "step-000004\n");
  await Deno.writeTextFile(join(out, ".notes.tmp-1"), "the user's");
  await Deno.mkdir(join(out, "step-000003"));
  assert.deepEqual(await removeLeftovers(out), [".latest.tmp-123-abc", ".step-000004.tmp-123"]);
  const left = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
  assert.deepEqual(left, [".notes.tmp-1", "step-000003"]);
});

Deno.test("findResumePoint() and checkResumeData() on a real run: fallback, moved shards, another tokenizer", async () => {
  const { dir, tokenizer } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
  const { backend } = await openBackend("cpu", { threads: 1 });
  const out = join(await Deno.makeTempDir(), "run");
  const o = trainOptions(dir, 3, { order: ["en", "fr"], seqLen: 32, checkpointEvery: 1, keep: 2 });
  await train(o, { backend, out, tokenizerPath: tokenizer });
  assert.equal((await findResumePoint(out)).note, null);

  await Deno.remove(join(out, "step-000003", "config.json"));
  const point = await findResumePoint(out);
  assert.equal(point.dir, join(out, "step-000002"));
  assert.match(
    point.note!,
    /names step-000003, which is missing or incomplete: resuming from step-000002/,
  );

  // These shards' manifest records no sha256: moved, they cannot be recognised.
  await checkResumeData(out, point.config, dir, true);
  const moved = join(await Deno.makeTempDir(), "moved");
  assert.ok((await new Deno.Command("cp", { args: ["-a", dir, moved] }).output()).success);
  await assert.rejects(
    checkResumeData(out, point.config, moved, false),
    /the run was trained on ".*" and its checkpoint records no shard sha256 to check these against/,
  );
  const other = {
    ...point.config,
    tokenizer: { ...point.config.tokenizer, fingerprint: "ab".repeat(32) },
  };
  await assert.rejects(
    checkResumeData(out, other, dir, true),
    new RegExp(
      `tokenizer ${
        point.config.tokenizer.fingerprint.slice(0, 12)
      } \\(vocab 258\\), the run with abababababab \\(vocab 258\\)`,
    ),
  );
});
