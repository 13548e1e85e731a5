import assert from "node:assert/strict";
import { type BackendName, openBackend, TrainingStep } from "../../core/runtime/mod.ts";
import { buildGPTTraining, GPT_CONFIGS, gptConfig } from "../../models/gpt.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, layers: 1, dModel: 32, contextLength: 8 });
const B = 2, T = 8;

async function losses(name: BackendName, steps: number): Promise<number[]> {
  const tg = buildGPTTraining(CFG, { batch: B, seqLen: T, seed: 2 });
  const { backend } = await openBackend(name, { threads: 1 });
  const step = await TrainingStep.create(backend, tg.model, {
    bindings: tg.bindings,
    state: tg.initialState,
  });
  const ids = Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % 256);
  const int64 = (v: number[]) => ({
    dtype: "int64" as const,
    dims: [B, T],
    data: BigInt64Array.from(v, BigInt),
  });
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const r = await step.run({
      tokens: int64(ids),
      targets: int64(ids.map((v) => (v * 3) % 256)),
      lr: 1e-2,
      step: t,
    });
    out.push(r.loss);
  }
  await step.dispose();
  return out;
}

Deno.test("the GPT training graph gives the same losses on cpu and wasm within float32 tolerance", async () => {
  const cpu = await losses("cpu", 4), wasm = await losses("wasm", 4);
  assert.ok(cpu[3]! < cpu[0]!, `loss falls on cpu: ${cpu}`);
  cpu.forEach((l, i) =>
    assert.ok(Math.abs(l - wasm[i]!) < 1e-4 * Math.max(1, l), `${cpu} vs ${wasm}`)
  );
});

Deno.test({
  name: "the GPT training graph gives the same losses on webgpu as on cpu",
  ignore: !("gpu" in navigator),
  async fn() {
    const cpu = await losses("cpu", 2), gpu = await losses("webgpu", 2);
    cpu.forEach((l, i) =>
      assert.ok(Math.abs(l - gpu[i]!) < 1e-3 * Math.max(1, l), `${cpu} vs ${gpu}`)
    );
  },
});
