import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildTeacherCache,
  distill,
  type DistillSource,
  loadTeacher,
  openTeacherCache,
} from "../../../pipeline/distill/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import { train, type TrainOptions } from "../../../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../../../models/gpt.ts";
import { byteShards, metrics, trainOptions, withoutTiming } from "../training/_fixtures.ts";

const cpu = async () => (await openBackend("cpu", { threads: 1 })).backend;

/** One teacher for the whole file: a tiny GPT trained on all four fixture classes. */
const setup = (async () => {
  const shards = await byteShards({ trainBytes: 30_000 });
  const teacherDir = await Deno.makeTempDir({ prefix: "moe-teacher-" });
  const teacherModel = { ...GPT_CONFIGS.tiny, vocabSize: 258, layers: 3, dModel: 96 };
  await train(trainOptions(shards.dir, 600, { model: teacherModel, modelName: "custom" }), {
    backend: await cpu(),
    out: teacherDir,
    tokenizerPath: shards.tokenizer,
  });
  return { ...shards, teacherDir };
})();

/** A 1-layer student of one class. */
function student(data: string, steps: number, over: Partial<TrainOptions> = {}): TrainOptions {
  return trainOptions(data, steps, {
    model: { ...GPT_CONFIGS.tiny, vocabSize: 258, layers: 1 },
    modelName: "custom",
    schedule: "balanced",
    order: ["fr"],
    lr: { lr: 3e-3, minLr: 3e-4, warmup: 10, steps, decay: "cosine" },
    ...over,
  });
}

const settings = (over: Partial<DistillSource> = {}): DistillSource => ({
  teacher: null,
  cache: null,
  kd: "forward",
  temperature: 2,
  alpha: { kind: "fixed", alpha: 0.5 },
  lossSchedule: "combined",
  ...over,
});

Deno.test("a student distilled on KD alone moves towards its teacher and is reported beside it", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const out = await Deno.makeTempDir();
  const s = await distill(
    student(dir, 120),
    settings({ teacher: teacherDir, temperature: 1, alpha: { kind: "fixed", alpha: 0 } }),
    { backend: await cpu(), out, tokenizerPath: tokenizer },
  );
  const steps = (await metrics(out)).filter((m) => m.event === "train") as {
    kd: number;
    ce: number;
  }[];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [first, last] = [steps.slice(0, 5), steps.slice(-5)];
  // KL to the teacher falls by far more than half, and CE follows without being trained on.
  assert.ok(mean(last.map((m) => m.kd)) < mean(first.map((m) => m.kd)) / 3, "KD falls");
  assert.ok(mean(last.map((m) => m.ce)) < mean(first.map((m) => m.ce)) - 1, "CE follows");
  // The report compares with the teacher on the same validation windows of the same class.
  assert.deepEqual(Object.keys(s.val), ["fr"]);
  assert.deepEqual(Object.keys(s.teacherVal!), ["fr"]);
  assert.ok(s.teacherVal!.fr!.loss < s.val.fr!.loss, "a 1-layer student stays behind");
});

Deno.test("distilling from a full-vocabulary cache follows the online run", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const backend = await cpu();
  const teacher = await loadTeacher(teacherDir);
  const cacheDir = join(await Deno.makeTempDir(), "cache");
  const manifest = await buildTeacherCache({
    teacher,
    data: dir,
    classes: ["fr"],
    seqLen: 64,
    topK: 258, // every token: the (k + 1)-bucket KL is the full KL
    temperature: 2,
    batch: 8,
    backend,
    out: cacheDir,
  });
  assert.equal(manifest.teacher.fingerprint, teacher.fingerprint);
  assert.equal(manifest.bytes, manifest.classes.fr!.windows * 64 * 258 * 4);
  const online = await Deno.makeTempDir(), cached = await Deno.makeTempDir();
  await distill(student(dir, 20), settings({ teacher: teacherDir }), {
    backend,
    out: online,
    tokenizerPath: tokenizer,
  });
  await distill(student(dir, 20), settings({ cache: cacheDir }), {
    backend,
    out: cached,
    tokenizerPath: tokenizer,
  });
  const kd = async (out: string) =>
    (await metrics(out)).filter((m) => m.event === "train").map((m) => m.kd as number);
  const [a, b] = [await kd(online), await kd(cached)];
  // float16 log-probabilities: equal to ~1e-3 relative
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 2e-3 * x + 1e-4, `${a} vs ${b}`));
});

Deno.test("a top-k cache stores the teacher's k best tokens with their log-probabilities", async () => {
  const { dir, teacherDir } = await setup;
  const cacheDir = join(await Deno.makeTempDir(), "cache");
  await buildTeacherCache({
    teacher: await loadTeacher(teacherDir),
    data: dir,
    classes: ["de"],
    seqLen: 32,
    topK: 4,
    temperature: 1,
    batch: 8,
    backend: await cpu(),
    out: cacheDir,
  });
  const cache = await openTeacherCache(cacheDir);
  const { ids, logProbs } = await cache.read(["de", "de"], [0, 3]);
  cache.close();
  assert.equal(ids.length, 2 * 32 * 4);
  for (let p = 0; p < 2 * 32; p++) {
    const row = Array.from(logProbs.subarray(p * 4, p * 4 + 4));
    assert.ok(row.every((x, i) => i === 0 || x <= row[i - 1]!), `sorted: ${row}`);
    const mass = row.reduce((s, x) => s + Math.exp(x), 0);
    assert.ok(mass > 0 && mass <= 1.002, `top-4 mass ${mass}`);
    assert.equal(new Set(Array.from(ids.subarray(p * 4, p * 4 + 4))).size, 4);
  }
});

Deno.test("a resumed distillation with adaptive α logs exactly the uninterrupted run", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const backend = await cpu();
  const o = student(dir, 30, { checkpointEvery: 10 });
  const s = settings({ teacher: teacherDir, alpha: { kind: "paper" } });
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  await distill(o, s, { backend, out: full, tokenizerPath: tokenizer });
  await distill(o, s, { backend, out: cut, tokenizerPath: tokenizer, haltAfter: 25 });
  await distill(o, s, { backend, out: cut, tokenizerPath: tokenizer, resume: true });
  const [x, y] = [await metrics(full), await metrics(cut)];
  assert.deepEqual(y.map(withoutTiming), x.map(withoutTiming));
  const alphas = x.filter((m) => m.event === "train").map((m) => m.alpha as number);
  assert.ok(alphas.every((a) => a >= 0 && a <= 1));
});

Deno.test("a student distilled with dropout resumes exactly, and its masks are on", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const backend = await cpu();
  const o = student(dir, 12, { checkpointEvery: 4 });
  const dropping = { ...o, model: { ...o.model, dropout: 0.1 } };
  const s = settings({ teacher: teacherDir });
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const plain = await Deno.makeTempDir();
  await distill(dropping, s, { backend, out: full, tokenizerPath: tokenizer });
  await distill(dropping, s, { backend, out: cut, tokenizerPath: tokenizer, haltAfter: 6 });
  await distill(dropping, s, { backend, out: cut, tokenizerPath: tokenizer, resume: true });
  const [x, y] = [await metrics(full), await metrics(cut)];
  assert.deepEqual(y.map(withoutTiming), x.map(withoutTiming));
  await distill(o, s, { backend, out: plain, tokenizerPath: tokenizer });
  const losses = async (out: string) =>
    (await metrics(out)).filter((m) => m.event === "train").map((m) => m.loss);
  assert.notDeepEqual(await losses(plain), await losses(full));
});

Deno.test("alternating steps train on CE alone, then on KD alone", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const out = await Deno.makeTempDir();
  await distill(student(dir, 6), settings({ teacher: teacherDir, lossSchedule: "alternating" }), {
    backend: await cpu(),
    out,
    tokenizerPath: tokenizer,
  });
  const steps = (await metrics(out)).filter((m) => m.event === "train") as {
    alpha: number;
    loss: number;
    ce: number;
    kd: number;
  }[];
  assert.deepEqual(steps.map((m) => m.alpha), [1, 0, 1, 0, 1, 0]);
  steps.forEach((m) => assert.ok(Math.abs(m.loss - (m.alpha === 1 ? m.ce : m.kd)) < 1e-5));
});

Deno.test("a teacher with another tokenizer, a missing class and a foreign cache are refused", async () => {
  const { dir, tokenizer, teacherDir } = await setup;
  const backend = await cpu();
  // The same shards under another tokenizer fingerprint.
  const other = await Deno.makeTempDir();
  for (const split of ["train", "val"]) {
    await Deno.mkdir(join(other, split));
    for (const c of ["en", "fr", "de", "py"]) {
      await Deno.copyFile(join(dir, split, `${c}.bin`), join(other, split, `${c}.bin`));
    }
  }
  const m = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  m.tokenizer.fingerprint = "0".repeat(64);
  await Deno.writeTextFile(join(other, "manifest.json"), JSON.stringify(m));
  const out = await Deno.makeTempDir();
  await assert.rejects(
    distill(student(other, 2), settings({ teacher: teacherDir }), {
      backend,
      out,
      tokenizerPath: tokenizer,
    }),
    /teacher ".*" and the data ".*" use different tokenizers/,
  );
  await assert.rejects(
    distill(student(dir, 2, { order: ["xx"] }), settings({ teacher: teacherDir }), {
      backend,
      out,
      tokenizerPath: tokenizer,
    }),
    /Cannot distil class "xx": ".*" has no shard for it/,
  );
  // A cache built from another teacher (a second run with another seed).
  const second = await Deno.makeTempDir();
  await train(trainOptions(dir, 3, { seed: 2 }), {
    backend,
    out: second,
    tokenizerPath: tokenizer,
  });
  const cacheDir = join(await Deno.makeTempDir(), "cache");
  await buildTeacherCache({
    teacher: await loadTeacher(second),
    data: dir,
    classes: ["fr"],
    seqLen: 64,
    topK: 8,
    temperature: 2,
    batch: 8,
    backend,
    out: cacheDir,
  });
  await assert.rejects(
    distill(student(dir, 2), settings({ teacher: teacherDir, cache: cacheDir }), {
      backend,
      out,
      tokenizerPath: tokenizer,
    }),
    /teacher cache ".*": it was built from another teacher/,
  );
  // Nothing was written by the refused runs.
  assert.deepEqual([...Deno.readDirSync(out)], []);
});
