import assert from "node:assert/strict";
import { join } from "node:path";
import type { DistillSettings } from "../../../pipeline/distill/mod.ts";
import { type MoEDistill, moeTrainOptions, trainMoE } from "../../../pipeline/moe/mod.ts";
import { train } from "../../../pipeline/training/mod.ts";
import type { MoEConfig } from "../../../models/moe.ts";
import { byteShards, metrics, trainOptions, withoutTiming } from "../training/_fixtures.ts";
import { cpu, TINY } from "./_fixtures.ts";

const CLASSES = ["en", "fr", "de", "py"];

/** Shards of the four classes and a teacher trained on them (once for the file). */
const setup = (async () => {
  const shards = await byteShards({ trainBytes: 12_000 });
  const teacher = await Deno.makeTempDir({ prefix: "moe-teacher-" });
  await train(trainOptions(shards.dir, 40, { seqLen: 32, batch: 4 }), {
    backend: await cpu(),
    out: teacher,
    tokenizerPath: shards.tokenizer,
  });
  return { ...shards, teacher };
})();

const jeet: MoEConfig = { model: { ...TINY, layers: 1 }, classes: CLASSES, variant: "jeet" };

function options(data: string, steps: number, checkpointEvery = 0) {
  return moeTrainOptions(jeet, {
    data,
    modelName: "custom",
    batch: 4,
    seqLen: 32,
    lr: { lr: 3e-3, minLr: 3e-4, warmup: 2, steps, decay: "cosine" },
    adamw: trainOptions(data, steps).adamw,
    evalEvery: 0,
    evalRows: 4,
    checkpointEvery,
    keep: 1,
    seed: 1,
  });
}

async function run(
  out: string,
  steps: number,
  over: Partial<DistillSettings>,
  ctx: { haltAfter?: number; resume?: boolean; checkpointEvery?: number } = {},
): Promise<Record<string, unknown>[]> {
  const { dir, tokenizer, teacher } = await setup;
  const distill: MoEDistill = {
    teacher,
    kd: "forward",
    temperature: 1,
    alpha: { kind: "fixed", alpha: 0.5 },
    lossSchedule: "alternating",
    ...over,
  };
  const { checkpointEvery, ...rest } = ctx;
  await trainMoE(jeet, options(dir, steps, checkpointEvery), {
    backend: await cpu(),
    out,
    tokenizerPath: tokenizer,
    ...rest,
  }, distill);
  return (await metrics(out)).filter((m) => m.event === "train");
}

Deno.test("train-moe --schedule alternating with a teacher gives every class CE-only and KD-only steps, each train line naming its class", async () => {
  const steps = await run(await Deno.makeTempDir(), 16, { alternate: "step" });
  assert.deepEqual(steps.map((s) => s.class), [...CLASSES, ...CLASSES, ...CLASSES, ...CLASSES]);
  for (const cls of CLASSES) {
    const alphas = steps.filter((s) => s.class === cls).map((s) => s.alpha);
    assert.deepEqual(alphas, [1, 0, 1, 0], `${cls}: its own visits alternate`);
  }
  // A CE-only step trains on CE, a KD-only step on KD.
  for (const s of steps) {
    const trained = s.alpha === 1 ? s.ce : s.kd;
    assert.ok(Math.abs((s.loss as number) - (trained as number)) < 1e-6, JSON.stringify(s));
  }
});

Deno.test("train-moe --alternate micro-batch trains CE on the first half and KD on the second half of every step", async () => {
  const steps = await run(await Deno.makeTempDir(), 8, { alternate: "micro-batch" });
  assert.deepEqual(steps.map((s) => s.class), [...CLASSES, ...CLASSES]);
  for (const s of steps) {
    assert.equal(s.alpha, 0.5);
    // loss is the mean of the halves' objectives: the CE half's CE and the KD half's KD.
    assert.equal(s.loss, ((s.ce as number) + (s.kd as number)) / 2);
    assert.ok((s.grad_norm as number) > 0);
  }
  const stepwise = await run(await Deno.makeTempDir(), 8, { alternate: "step" });
  assert.notDeepEqual(steps.map((s) => s.loss), stepwise.map((s) => s.loss));
});

Deno.test("one α controller per class: a resumed adaptive MoE run logs exactly the uninterrupted one", async () => {
  const settings = { lossSchedule: "combined" as const, alpha: { kind: "paper" as const } };
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const x = await run(full, 24, settings, { checkpointEvery: 8 });
  await run(cut, 24, settings, { checkpointEvery: 8, haltAfter: 20 });
  const y = await run(cut, 24, settings, { checkpointEvery: 8, resume: true });
  assert.deepEqual(y.map(withoutTiming), x.map(withoutTiming));
  // The checkpoint's position holds one history per class, each of that class's steps only.
  const latest = (await Deno.readTextFile(join(full, "latest"))).trim();
  const config = JSON.parse(await Deno.readTextFile(join(full, latest, "config.json")));
  const saved = config.trainer.position.runner.classes as Record<
    string,
    { ce: number[]; kd: number[]; visits: number }
  >;
  assert.deepEqual(Object.keys(saved).sort(), [...CLASSES].sort());
  for (const cls of CLASSES) {
    const own = x.filter((s) => s.class === cls);
    assert.equal(saved[cls]!.visits, own.length);
    assert.deepEqual(saved[cls]!.ce, own.map((s) => s.ce));
    assert.deepEqual(saved[cls]!.kd, own.map((s) => s.kd));
  }
});

Deno.test("a resumed micro-batch-alternating MoE run logs exactly the uninterrupted one", async () => {
  const settings = { alternate: "micro-batch" as const };
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const x = await run(full, 12, settings, { checkpointEvery: 4 });
  await run(cut, 12, settings, { checkpointEvery: 4, haltAfter: 6 });
  const y = await run(cut, 12, settings, { checkpointEvery: 4, resume: true });
  assert.deepEqual(y.map(withoutTiming), x.map(withoutTiming));
});
