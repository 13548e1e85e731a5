import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assembleBundle,
  type Bundle,
  bundleMixture,
  evaluateBundle,
  loadBundle,
  routedMix,
  softMix,
  softRule,
} from "../../../pipeline/moe/mod.ts";
import { openGPTDecoder, openMixtureDecoder, openModel } from "../../../pipeline/generate/mod.ts";
import { InvalidRequest } from "../../../core/job/mod.ts";
import { CLASSES, cpu, randomGPTCheckpoint, trainedMoE } from "./_fixtures.ts";

// A MoE-CE trained briefly (its experts share wte) and a PLE bundle of random GPTs (own wte).
const f = await trainedMoE("moe-ce", 40);
const root = join(f.run, "..");
await assembleBundle(join(root, "moe-ce"), { router: f.router, fromMoE: f.run });
const moeCE = await loadBundle(join(root, "moe-ce"));

const randomGPT = (seed: number) => randomGPTCheckpoint(root, f.tokenizer, seed);
const experts = new Map<string, string>();
for (const [i, c] of CLASSES.entries()) experts.set(c, await randomGPT(30 + i));
await assembleBundle(join(root, "ple"), { router: f.router, experts });
const ple = await loadBundle(join(root, "ple"));

const TEXTS = [
  "Le chat dort sur le canapé pendant que la pluie tombe.",
  "def main(argv):\n    return 0",
  "The history of the city goes back to Roman times, and",
  "Der Hund und le chat",
];

const sum = (w: Record<string, number>) => Object.values(w).reduce((a, b) => a + b, 0);

Deno.test("soft routing weights sum to 1 and follow the router's probabilities", () => {
  for (const text of TEXTS) {
    const p = moeCE.router.route(text).probabilities;
    const ce = softMix(moeCE, p), plain = softMix(ple, p);
    assert.ok(Math.abs(sum(ce.weights) - 1) < 1e-12 && Math.abs(sum(plain.weights) - 1) < 1e-12);
    assert.equal(ce.weights.common, 0.5); // MoE-CE: the common expert at its ½
    for (const c of CLASSES) {
      assert.ok(Math.abs(plain.weights[c]! - p[c]!) < 1e-12, `${c}: ${plain.weights[c]}`);
      assert.ok(Math.abs(ce.weights[c]! - 0.5 * p[c]!) < 1e-12);
    }
  }
  assert.equal(softRule(moeCE), "hidden-mean"); // the experts share wte (checked on the values)
  assert.equal(softRule(ple), "probability-mean"); // own embeddings: distributions mixed
  assert.deepEqual(softMix(ple, { en: 0, fr: 2, de: 0, py: 0 }), {
    weights: { fr: 1 },
    rule: null,
  });
  assert.throws(() => softMix(ple, { en: 0, fr: 0, de: 0, py: 0 }), /no class/);
});

Deno.test("hard routing in a MoE-CE bundle adds the common expert at the bundle's weights", () => {
  assert.deepEqual(routedMix(moeCE, "fr"), {
    weights: { fr: 0.5, common: 0.5 },
    rule: "hidden-mean",
  });
  assert.deepEqual(routedMix(moeCE, "fr", false), { weights: { fr: 1 }, rule: null });
  assert.deepEqual(routedMix(moeCE, "common"), { weights: { common: 1 }, rule: null });
  assert.deepEqual(routedMix(ple, "de"), { weights: { de: 1 }, rule: null });
  assert.throws(() => routedMix(ple, "common"), /no expert "common"/);
});

/** Each named expert's logits alone on `ids`. */
async function expertLogits(bundle: Bundle, names: string[], ids: number[]) {
  const backend = await cpu();
  const out: Float32Array[] = [];
  for (const name of names) {
    const m = name === "common" ? bundle.common! : bundle.experts.get(name)!;
    const d = await openGPTDecoder(backend, m.config, m.values);
    out.push(await d.prefill(ids));
    await d.dispose();
  }
  return out;
}

Deno.test("moe generate's bundle decoder is routed + common by default and the router's mixture with mix router", async () => {
  const prompt = TEXTS[0]!;
  const ids = Array.from(moeCE.tokenizer.encode(prompt));
  for (const mix of ["route", "router"] as const) {
    const opened = await openModel(join(root, "moe-ce"), await cpu(), { prompt, mix });
    try {
      const route = opened.route!;
      assert.equal(route.mix, mix);
      assert.equal(route.rule, "hidden-mean");
      if (mix === "route") assert.deepEqual(route.weights, { fr: 0.5, common: 0.5 });
      else assert.deepEqual(route.weights, softMix(moeCE, route.probabilities).weights);
      const names = Object.keys(route.weights);
      const parts = await expertLogits(moeCE, names, ids);
      const got = await opened.decoder.prefill(ids);
      // Shared head: head(Σ wᵢ hᵢ) = Σ wᵢ head(hᵢ), in float64.
      let err = 0;
      for (let v = 0; v < got.length; v++) {
        const want = names.reduce((s, n, i) => s + route.weights[n]! * parts[i]![v]!, 0);
        err = Math.max(err, Math.abs(got[v]! - want));
      }
      assert.ok(err < 1e-4, `${mix}: ${err}`);
    } finally {
      await opened.decoder.dispose();
    }
  }
});

Deno.test("one-hot router weights and --expert reproduce the single expert exactly", async () => {
  const ids = [72, 101, 108, 108, 111];
  const [alone, de] = await expertLogits(moeCE, ["py"], ids).then(async (py) => [
    py[0]!,
    (await expertLogits(ple, ["de"], ids))[0]!,
  ]);
  const oneHot = softMix(ple, { en: 0, fr: 0, de: 1, py: 0 });
  const mixed = await openMixtureDecoder(await cpu(), bundleMixture(ple, oneHot));
  assert.deepEqual(await mixed.prefill(ids), de);
  await mixed.dispose();
  const forced = await openModel(join(root, "moe-ce"), await cpu(), { prompt: "x", expert: "py" });
  assert.deepEqual(forced.route!.weights, { py: 1 });
  assert.deepEqual(await forced.decoder.prefill(ids), alone);
  await forced.decoder.dispose();
  const backend = await cpu();
  const opened = await openModel(join(root, "ple"), backend, {
    prompt: TEXTS[1]!,
    mix: "router",
  });
  const w = opened.route!.weights;
  assert.ok(Math.abs(sum(w) - 1) < 1e-12 && Object.keys(w).length === 4);
  await opened.decoder.dispose();
  await assert.rejects(
    () => openModel(join(root, "ple"), backend, { mix: "router", expert: "en" }),
    (e: unknown) =>
      e instanceof InvalidRequest && e.option === "expert" &&
      /expert with mix router/.test(e.message),
  );
});

Deno.test("moe eval with mix router adds the soft routing row, close to hard routing when the router is sure", async () => {
  for (
    const [bundle, name, routed] of [[moeCE, "soft+common", "routed+common"], [
      ple,
      "soft",
      "routed",
    ]] as const
  ) {
    const report = await evaluateBundle(bundle, {
      data: f.shards,
      split: "val",
      rows: 8,
      batch: 4,
      seqLen: 32,
      backend: await cpu(),
      mix: "router",
    });
    const soft = report.rows.find((r) => r.name === name)!,
      hard = report.rows.find((r) => r.name === routed)!;
    assert.ok(soft, `${name} row`);
    for (const c of CLASSES) {
      const [s, h] = [soft.perClass[c]!.ppl, hard.perClass[c]!.ppl];
      assert.ok(Number.isFinite(s) && Math.abs(s / h - 1) < 0.1, `${name} ${c}: ${s} vs ${h}`);
    }
    const plain = await evaluateBundle(bundle, {
      data: f.shards,
      split: "val",
      rows: 8,
      batch: 4,
      seqLen: 32,
      backend: await cpu(),
    });
    assert.ok(!plain.rows.some((r) => r.name === name));
  }
});
