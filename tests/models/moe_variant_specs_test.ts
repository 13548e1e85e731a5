import assert from "node:assert/strict";
import { Graph } from "../../core/graph/mod.ts";
import { GPT_CONFIGS } from "../../models/gpt.ts";
import {
  buildMoEInference,
  COMMON,
  initMoE,
  isSharedParam,
  moeClassLoss,
  type MoEConfig,
  moeMembers,
} from "../../models/moe.ts";
import {
  commonWeights,
  hasCommonStack,
  MOE_VARIANT_SPECS,
  MOE_VARIANTS,
  SHARED_PARTS,
  VARIANT_NAMES,
  variantSpec,
} from "../../models/moe_variant_specs.ts";

const model = { ...GPT_CONFIGS.tiny, contextLength: 16, vocabSize: 50 };

Deno.test("every variant's spec is consistent", () => {
  assert.deepEqual(VARIANT_NAMES, Object.keys(MOE_VARIANT_SPECS));
  for (const v of VARIANT_NAMES) {
    const s = variantSpec(v);
    const at = `variant "${v}"`;
    assert.ok(s.title !== "" && s.summary !== "", at);
    assert.ok(s.commonShare > 0 && s.commonShare < 1, at);
    assert.deepEqual(commonWeights(v), [1 - s.commonShare, s.commonShare], at);
    // A common expert that joins the routed one must exist.
    if (s.commonJoinsRouted) assert.notEqual(s.common, "none", at);
    // Averaging hidden states needs one embedding and head, by construction or checked per bundle.
    if (s.combine === "hidden-mean") assert.ok(s.sharedParts.includes("wte"), at);
    if (s.training === "joint") {
      // One state store: the shared parts are stored once, a common stack is in or out.
      assert.deepEqual(s.sharedParts, SHARED_PARTS, at);
      assert.notEqual(s.common, "optional", at);
      assert.equal(s.combine, "hidden-mean", at);
    } else {
      // Experts made apart share nothing by construction and have no common stack in a graph.
      assert.deepEqual(s.sharedParts, [], at);
      assert.notEqual(s.common, "always", at);
    }
    assert.equal(hasCommonStack(v), s.common === "always", at);
  }
});

Deno.test("MOE_VARIANTS lists exactly the jointly trained variants, in table order", () => {
  assert.deepEqual(
    MOE_VARIANTS,
    VARIANT_NAMES.filter((v) => MOE_VARIANT_SPECS[v].training === "joint"),
  );
  assert.ok(SHARED_PARTS.every(isSharedParam) && !isSharedParam("wpe"));
});

Deno.test("every jointly trained variant builds: its members, shared parts, losses and inference graph", () => {
  for (const variant of MOE_VARIANTS) {
    for (const head of ["tied", "untied"] as const) {
      const cfg: MoEConfig = {
        model: head === "untied" ? { ...model, head } : model,
        classes: ["en", "fr"],
        variant,
      };
      const at = `${variant}, ${head} head`;
      const members = moeMembers(cfg);
      assert.deepEqual(members, hasCommonStack(variant) ? ["en", "fr", COMMON] : ["en", "fr"], at);
      const values = initMoE(cfg, 1);
      // The shared parts are stored once, unprefixed (`lm_head` only when the head is untied).
      const shared = [...values.keys()].filter((n) => !n.includes("."));
      const expected = MOE_VARIANT_SPECS[variant].sharedParts.filter((p) =>
        p === "wte" || head === "untied"
      );
      assert.deepEqual(shared.sort(), [...expected].sort(), at);
      for (const m of members) assert.ok(values.has(`${m}.wpe`), `${at}: ${m}.wpe`);
      const g = new Graph("en");
      moeClassLoss(g, cfg, "en", { batch: 1, seqLen: 8 }, values);
      const bound = new Set(g.parameters.map((p) => p.tensor.name.split(".")[0]));
      // A class's batch touches its stack, the shared parts and the common stack when there is one.
      assert.deepEqual(bound.has(COMMON), hasCommonStack(variant), at);
      assert.ok(bound.has("en") && !bound.has("fr"), at);
      assert.ok(buildMoEInference(cfg, values).length > 0, at);
    }
  }
});
