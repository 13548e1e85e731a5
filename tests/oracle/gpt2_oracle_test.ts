import assert from "node:assert/strict";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { hfGpt2Name } from "../../pipeline/hf/mod.ts";
import { oracleExport, ourLossAndGrads } from "./_oracle_model.ts";

/** Each oracle's committed answer (see make_golden.ts): GPT-2 in PyTorch, and transformers'. */
const ORACLES = [
  { name: "PyTorch", file: "gpt2_oracle_grads.safetensors" },
  { name: "transformers' GPT2LMHeadModel", file: "gpt2_transformers_grads.safetensors" },
].map((o) => ({ ...o, path: new URL(`./golden/${o.file}`, import.meta.url).pathname }));

for (const oracle of ORACLES) {
  Deno.test(`the golden ${oracle.name} answer was computed from the weights this test exports`, async () => {
    const { metadata } = await loadSafetensors(oracle.path);
    assert.equal(metadata.weights_sha256, (await oracleExport()).sha256);
  });

  Deno.test(`our GPT-2 loss and every parameter's gradient match ${oracle.name} within 1e-4 relative error`, async () => {
    const { tensors, metadata } = await loadSafetensors(oracle.path);
    const ours = await ourLossAndGrads();
    const refLoss = Number(metadata.loss);
    assert.ok(Math.abs(ours.loss - refLoss) / refLoss <= 1e-4, `loss ${ours.loss} vs ${refLoss}`);
    assert.equal(Object.keys(tensors).length, ours.grads.size);
    for (const [name, g] of ours.grads) {
      const ref = tensors[hfGpt2Name(name)]!.data as Float32Array;
      let diff = 0, norm = 0;
      for (let i = 0; i < ref.length; i++) {
        diff += (g[i]! - ref[i]!) ** 2;
        norm += ref[i]! ** 2;
      }
      const rel = Math.sqrt(diff / norm);
      assert.ok(rel <= 1e-4, `gradient of ${name}: relative error ${rel.toExponential(2)}`);
    }
  });
}
