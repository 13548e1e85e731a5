import assert from "node:assert/strict";
import {
  ClassAlphas,
  distill,
  type DistillSource,
  MIXED_BATCH,
  parseAlternation,
  runMicroBatches,
} from "../../../pipeline/distill/mod.ts";
import { InvalidRequest } from "../../../core/job/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import { train } from "../../../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../../../models/gpt.ts";
import { byteShards, metrics, trainOptions, withoutTiming } from "../training/_fixtures.ts";

const cpu = async () => (await openBackend("cpu", { threads: 1 })).backend;

Deno.test("ClassAlphas alternates each class on its own visits, whatever the order of classes", () => {
  const plans = new ClassAlphas({ kind: "fixed", alpha: 0.5 }, 100);
  const order = ["en", "fr", "de", "py", "en", "fr", "de", "py", "en"];
  const got = order.map((c) => plans.next(c, "alternating", "step")[0]);
  // The old odd/even rule would give en and de only CE (1), fr and py only KD (0).
  assert.deepEqual(got, [1, 1, 1, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual(plans.next("fr", "alternating", "micro-batch"), [1, 0]);
  assert.deepEqual(plans.next("fr", "combined", "micro-batch"), [0.5]);
});

Deno.test("ClassAlphas keeps one history per class: one class's losses never move another's α", () => {
  const rule = { kind: "dwa" as const, temperature: 0.1 };
  const plans = new ClassAlphas(rule, 2000); // window 20
  for (let i = 0; i < 40; i++) {
    plans.next("en", "combined", "step");
    plans.observe("en", 5 - 0.001 * i, 3 - 0.05 * i); // en: KD falls much faster → α up
    plans.next("fr", "combined", "step");
    plans.observe("fr", 5 - 0.05 * i, 3 - 0.001 * i); // fr: CE falls much faster → α down
  }
  const en = plans.next("en", "combined", "step")[0]!;
  const fr = plans.next("fr", "combined", "step")[0]!;
  assert.ok(en > 0.9 && fr < 0.3, `en ${en}, fr ${fr}`);
  const s = plans.state();
  assert.deepEqual(Object.keys(s.classes), ["en", "fr"]);
  assert.equal(s.classes.en!.visits, 41);
  assert.equal(s.classes.en!.ce.length, 20);
  // Through JSON and back: the same α and the same visit parity.
  const again = new ClassAlphas(rule, 2000);
  again.restore(JSON.parse(JSON.stringify(s)));
  assert.deepEqual(again.state(), s);
  assert.equal(again.next("en", "combined", "step")[0], plans.next("en", "combined", "step")[0]);
});

Deno.test("ClassAlphas restores a shared history saved before per-class controllers into every class", () => {
  const plans = new ClassAlphas({ kind: "paper" }, 100);
  const ce = Array.from({ length: 20 }, (_, i) => 5 + 0.1 * i); // rising CE: α drops below ½
  const kd = Array.from({ length: 20 }, (_, i) => 3 - 0.1 * i);
  plans.restore({ ce, kd });
  const [en, fr] = ["en", "fr"].map((c) => plans.next(c, "combined", "step")[0]!) as [
    number,
    number,
  ];
  assert.ok(en < 0.5);
  assert.equal(fr, en);
  assert.throws(
    () => plans.restore({ classes: { en: { ce: [1], kd: [1], visits: -1 } } }),
    /Cannot restore the α state of class "en": visits -1 is not an integer ≥ 0/,
  );
  assert.throws(() => plans.restore({ classes: { en: { ce: [1], kd: [], visits: 1 } } }));
});

Deno.test("runMicroBatches() averages the objectives and logs the terms each micro-batch trained on", async () => {
  const calls: [number, number][] = [];
  const s = await runMicroBatches([1, 0], (i, alpha) => {
    calls.push([i, alpha]);
    return Promise.resolve(
      i === 0
        ? { loss: 2.5, ce: 2.5, kd: 7, gradNorm: NaN }
        : { loss: 1.25, ce: 3, kd: 1.25, gradNorm: NaN },
    );
  }, () => Promise.resolve(0.75));
  assert.deepEqual(calls, [[0, 1], [1, 0]]);
  assert.deepEqual(s, { loss: 1.875, gradNorm: 0.75, alpha: 0.5, ce: 2.5, kd: 1.25 });
  const fused = await runMicroBatches(
    [0.3],
    () => Promise.resolve({ loss: 2, ce: 3, kd: 1.5, gradNorm: 0.5 }),
    null,
  );
  assert.deepEqual(fused, { loss: 2, gradNorm: 0.5, alpha: 0.3, ce: 3, kd: 1.5 });
});

Deno.test("parseAlternation() accepts step and micro-batch, and names them otherwise", () => {
  assert.equal(parseAlternation(" Step "), "step");
  assert.throws(
    () => parseAlternation("epoch"),
    (e) =>
      e instanceof InvalidRequest && e.option === "alternate" &&
      e.message === 'Invalid alternate "epoch": expected "step" or "micro-batch"',
  );
  assert.equal(MIXED_BATCH, "*");
});

/** A teacher on the four fixture classes, and a student's options (batch 8, one class). */
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

async function student(
  out: string,
  source: Partial<DistillSource>,
  ctx: { haltAfter?: number; resume?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const { dir, tokenizer, teacher } = await setup;
  const o = trainOptions(dir, 10, {
    model: { ...GPT_CONFIGS.tiny, vocabSize: 258, layers: 1 },
    modelName: "custom",
    schedule: "balanced",
    order: ["fr"],
    seqLen: 32,
    checkpointEvery: 4,
  });
  await distill(o, {
    teacher,
    cache: null,
    kd: "forward",
    temperature: 2,
    alpha: { kind: "fixed", alpha: 0.5 },
    lossSchedule: "alternating",
    ...source,
  }, { backend: await cpu(), out, tokenizerPath: tokenizer, ...ctx });
  return (await metrics(out)).filter((m) => m.event === "train");
}

Deno.test("a student alternating per micro-batch trains CE on one half and KD on the other every step, and resumes exactly", async () => {
  const full = await Deno.makeTempDir(), cut = await Deno.makeTempDir();
  const x = await student(full, { alternate: "micro-batch" });
  assert.ok(x.every((s) => s.class === "fr" && s.alpha === 0.5));
  for (const s of x) assert.equal(s.loss, ((s.ce as number) + (s.kd as number)) / 2);
  await student(cut, { alternate: "micro-batch" }, { haltAfter: 6 });
  const y = await student(cut, { alternate: "micro-batch" }, { resume: true });
  assert.deepEqual(y.map(withoutTiming), x.map(withoutTiming));
});

Deno.test("--kd-scale none divides the KD term by τ² and nothing else", async () => {
  const scaled = await student(await Deno.makeTempDir(), { lossSchedule: "combined" });
  const plain = await student(await Deno.makeTempDir(), {
    lossSchedule: "combined",
    alpha: { kind: "fixed", alpha: 0.5 },
    kdScale: "none",
  });
  // The first step starts from the same parameters: its KD differs by τ² = 4 exactly in value.
  const [a, b] = [scaled[0]!, plain[0]!];
  assert.equal(a.ce, b.ce);
  assert.ok(Math.abs((a.kd as number) / 4 - (b.kd as number)) < 1e-6 * (a.kd as number));
});
