/**
 * The variant table is complete: every variant can be trained a few steps, assembled into a
 * bundle and exported, and what the bundle holds and how it mixes is what its spec says.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assembleBundle,
  type AssembleOptions,
  combinesCommon,
  loadBundle,
  moeTrainOptions,
  routedMix,
  trainMoE,
} from "../../../pipeline/moe/mod.ts";
import { readMoEExportSource } from "../../../pipeline/hf/moe_hf.ts";
import { train } from "../../../pipeline/training/mod.ts";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { COMMON, type MoEConfig, type MoEVariant } from "../../../models/moe.ts";
import { commonWeights, VARIANT_NAMES, variantSpec } from "../../../models/moe_variant_specs.ts";
import { byteShards } from "../training/_fixtures.ts";
import { CLASSES, cpu, fixtureRouter, TINY } from "./_fixtures.ts";

const { dir: shards, tokenizer } = await byteShards();
const root = await Deno.makeTempDir({ prefix: "moe-variants-" });
const router = await fixtureRouter(root);
const base = {
  data: shards,
  modelName: "tiny",
  batch: 4,
  seqLen: 32,
  lr: { lr: 1e-3, minLr: 1e-4, warmup: 0, steps: 2, decay: "constant" as const },
  adamw: ADAMW_DEFAULTS,
  evalEvery: 0,
  evalRows: 4,
  checkpointEvery: 0,
  keep: 1,
  seed: 1,
};

/** A `moe train-moe` run of `variant`, two steps. */
async function jointRun(variant: MoEVariant): Promise<string> {
  const moe: MoEConfig = { model: TINY, classes: CLASSES, variant };
  const out = join(root, `run-${variant}`);
  await trainMoE(moe, moeTrainOptions(moe, base), {
    backend: await cpu(),
    out,
    tokenizerPath: tokenizer,
  });
  return out;
}

/** A `moe train` GPT checkpoint, two steps. */
async function gptRun(name: string, seed: number): Promise<string> {
  const out = join(root, name);
  await train(
    { ...base, model: TINY, accumulate: 1, schedule: "mixed", order: CLASSES, seed },
    { backend: await cpu(), out, tokenizerPath: tokenizer },
  );
  return out;
}

/** What each variant's assembly is given: its run, or its separately trained experts. */
async function sources(
  variant: (typeof VARIANT_NAMES)[number],
): Promise<Omit<AssembleOptions, "router">[]> {
  const spec = variantSpec(variant);
  if (spec.training === "joint") return [{ fromMoE: await jointRun(variant as MoEVariant) }];
  const [expert, common] = [await gptRun("expert", 1), await gptRun("common", 2)];
  const experts = new Map(CLASSES.map((c) => [c, expert]));
  return spec.common === "optional" ? [{ experts }, { experts, common }] : [{ experts }];
}

Deno.test("every variant assembles into a bundle that holds and mixes what its spec says", async () => {
  for (const variant of VARIANT_NAMES) {
    const spec = variantSpec(variant);
    for (const [i, given] of (await sources(variant)).entries()) {
      const at = `${variant} #${i}`;
      const out = join(root, `bundle-${variant}-${i}`);
      const manifest = await assembleBundle(out, { router, ...given });
      const bundle = await loadBundle(out);
      assert.equal(manifest.variant, variant, at);
      assert.deepEqual([...bundle.experts.keys()], CLASSES, at);
      const hasCommon = bundle.common !== null;
      if (spec.common === "always") assert.ok(hasCommon, `${at}: a common stack is bundled`);
      if (spec.common === "none") assert.ok(!hasCommon, `${at}: no common expert`);
      assert.equal(manifest.fallback, hasCommon ? "common" : "best", at);
      if (hasCommon) {
        assert.deepEqual(manifest.combine?.weights, commonWeights(variant), at);
        if (spec.combine) assert.equal(manifest.combine?.rule, spec.combine, at);
      } else {
        assert.equal(manifest.combine, null, at);
      }
      // Hard routing adds the common expert exactly when the variant says it joins.
      const joins = spec.commonJoinsRouted && hasCommon;
      assert.equal(combinesCommon(bundle), joins, at);
      assert.deepEqual(
        Object.keys(routedMix(bundle, "en").weights),
        joins ? ["en", COMMON] : ["en"],
        at,
      );
      // A run exported for transformers combines as its bundle does.
      if (given.fromMoE) {
        const run = await readMoEExportSource(given.fromMoE);
        assert.equal(run?.variant, variant, at);
        assert.equal(run?.members.has(COMMON), hasCommon, at);
        assert.deepEqual(run?.combine ?? null, joins ? manifest.combine : null, at);
      }
    }
  }
});
