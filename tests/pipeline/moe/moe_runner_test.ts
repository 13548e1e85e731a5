import assert from "node:assert/strict";
import { join } from "node:path";
import { MoERunner, moeTrainOptions, trainMoE } from "../../../pipeline/moe/mod.ts";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { loadSafetensors } from "../../../core/runtime/mod.ts";
import { BatchSampler, openTokenData, train } from "../../../pipeline/training/mod.ts";
import type { MoEConfig } from "../../../models/moe.ts";
import { byteShards, metrics, trainOptions } from "../training/_fixtures.ts";
import { cpu, TINY } from "./_fixtures.ts";

const geometry = { batch: 4, seqLen: 32, seed: 1, adamw: ADAMW_DEFAULTS };

async function setup(variant: MoEConfig["variant"]) {
  const { dir } = await byteShards({ classes: ["en", "fr"], trainBytes: 8_000 });
  const data = await openTokenData(dir, 258, 32);
  const cfg: MoEConfig = { model: TINY, classes: ["en", "fr"], variant };
  const batch = (cls: string) =>
    new BatchSampler(data.train, {
      batch: 4,
      seqLen: 32,
      schedule: "round-robin",
      order: [cls],
      steps: 10,
      seed: 1,
    }).next(1);
  return { data, cfg, batch };
}

function changed(
  before: Map<string, Float32Array>,
  after: Map<string, Float32Array>,
  prefix: string,
): boolean {
  return [...after].some(([k, v]) =>
    (k === prefix || k.startsWith(prefix + ".")) && v.some((x, i) => x !== before.get(k)![i])
  );
}

for (const variant of ["jeet", "moe-ce"] as const) {
  Deno.test(`a ${variant} step on an "en" batch updates the en expert and the shared parts only`, async () => {
    const { data, cfg, batch } = await setup(variant);
    const runner = await MoERunner.create(await cpu(), cfg, geometry);
    const before = await runner.readParameters();
    const { loss, gradNorm } = await runner.step(await batch("en"), 1e-3, 1);
    assert.ok(Number.isFinite(loss) && gradNorm > 0);
    const after = await runner.readParameters();
    assert.ok(changed(before, after, "wte"), "the shared embedding moves");
    assert.ok(changed(before, after, "en"), "the routed expert moves");
    assert.ok(!changed(before, after, "fr"), "the other expert stays put");
    assert.equal(changed(before, after, "common"), variant === "moe-ce");
    await runner.dispose();
    data.close();
  });
}

Deno.test("a saved MoE-CE reloads with its LM head and gives the same eval loss", async () => {
  const { data, cfg, batch } = await setup("moe-ce");
  const backend = await cpu();
  const runner = await MoERunner.create(backend, cfg, geometry);
  for (let s = 1; s <= 6; s++) await runner.step(await batch(s % 2 ? "en" : "fr"), 3e-3, s);
  const b = await batch("fr");
  const loss = await runner.evalLoss("fr", b.tokens, b.targets);
  const path = join(await Deno.makeTempDir(), "state.safetensors");
  await runner.save(path, { step: "6" });
  await runner.dispose();
  const { tensors } = await loadSafetensors(path);
  assert.ok(
    tensors.wte && tensors["common.lnf.scale"] && tensors["fr.wpe"],
    "head, common and experts saved",
  );
  const reloaded = await MoERunner.create(backend, cfg, { ...geometry, seed: 99 });
  const fresh = await reloaded.evalLoss("fr", b.tokens, b.targets);
  await reloaded.load(path);
  const again = await reloaded.evalLoss("fr", b.tokens, b.targets);
  assert.notEqual(fresh, loss);
  assert.equal(again, loss);
  await assert.rejects(
    () => reloaded.evalLoss("de", b.tokens, b.targets),
    /no expert for class "de"/,
  );
  await reloaded.dispose();
  data.close();
});

Deno.test("a JEET distilled from a teacher logs α, CE and KD and keeps the teacher out of its checkpoints", async () => {
  const { dir, tokenizer } = await byteShards({ classes: ["en", "fr"], trainBytes: 8_000 });
  const backend = await cpu();
  const teacher = await Deno.makeTempDir();
  await train(trainOptions(dir, 4, { order: ["en", "fr"] }), {
    backend,
    out: teacher,
    tokenizerPath: tokenizer,
  });
  const moe: MoEConfig = { model: TINY, classes: ["en", "fr"], variant: "jeet" };
  const out = await Deno.makeTempDir();
  const options = moeTrainOptions(moe, {
    ...trainOptions(dir, 6),
    seqLen: 32,
    batch: 4,
  });
  const distill = {
    teacher,
    kd: "reverse" as const,
    temperature: 2,
    alpha: { kind: "dwa" as const, temperature: 0.1 },
    lossSchedule: "combined" as const,
  };
  const s = await trainMoE(moe, options, { backend, out, tokenizerPath: tokenizer }, distill);
  const steps = (await metrics(out)).filter((m) => m.event === "train");
  assert.equal(steps.length, 6);
  for (const m of steps) {
    const { alpha, ce, kd, loss } = m as Record<string, number>;
    assert.ok(Math.abs(loss! - (alpha! * ce! + (1 - alpha!) * kd!)) < 1e-4, JSON.stringify(m));
    assert.ok(kd! >= 0);
  }
  const { tensors } = await loadSafetensors(join(s.checkpoint, "state.safetensors"));
  assert.ok(Object.keys(tensors).includes("wte"));
  assert.ok(!Object.keys(tensors).some((n) => n.startsWith("teacher.")));
  const config = JSON.parse(await Deno.readTextFile(join(s.checkpoint, "config.json")));
  assert.equal(config.distill.kd, "reverse");
});
