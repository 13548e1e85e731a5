import assert from "node:assert/strict";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { hfGpt2Name } from "../../core/export/mod.ts";
import { oracleExport, ourLossAndGrads } from "./_oracle_model.ts";

const GOLDEN = new URL("./golden/gpt2_oracle_grads.safetensors", import.meta.url).pathname;

Deno.test("the golden PyTorch answer was computed from the weights this test exports", async () => {
  const { metadata } = await loadSafetensors(GOLDEN);
  assert.equal(metadata.weights_sha256, (await oracleExport()).sha256);
});

Deno.test("our GPT-2 loss and every parameter's gradient match PyTorch within 1e-4 relative error", async () => {
  const { tensors, metadata } = await loadSafetensors(GOLDEN);
  const ours = await ourLossAndGrads();
  const torchLoss = Number(metadata.loss);
  assert.ok(
    Math.abs(ours.loss - torchLoss) / torchLoss <= 1e-4,
    `loss ${ours.loss} vs ${torchLoss}`,
  );
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
