import assert from "node:assert/strict";
import { BACKEND_NAMES, type BackendName } from "../../core/runtime/mod.ts";
import { buildGPTTraining, GPT_CONFIGS, gptConfig } from "../../models/gpt.ts";
import { int64Tensor, probeBackends, titled, trainLosses } from "../_support/backends.ts";
import { readFixtureText } from "../_support/fixture_text.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, layers: 1, dModel: 32, contextLength: 8 });
const B = 2, T = 8;
const probes = await probeBackends();

async function losses(name: BackendName, steps: number): Promise<number[]> {
  const tg = buildGPTTraining(CFG, { batch: B, seqLen: T, seed: 2 });
  const ids = Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % 256);
  const data = {
    tokens: int64Tensor(ids, [B, T]),
    targets: int64Tensor(ids.map((v) => (v * 3) % 256), [B, T]),
  };
  return await trainLosses(probes[name].backend!, tg, data, steps, 1e-2);
}

Deno.test({
  name: titled(
    "the GPT training graph gives the same losses on cpu and wasm within float32 tolerance",
    probes.wasm,
  ),
  ignore: probes.wasm.backend === undefined,
  async fn() {
    const cpu = await losses("cpu", 4), wasm = await losses("wasm", 4);
    assert.ok(cpu[3]! < cpu[0]!, `loss falls on cpu: ${cpu}`);
    cpu.forEach((l, i) =>
      assert.ok(Math.abs(l - wasm[i]!) < 1e-4 * Math.max(1, l), `${cpu} vs ${wasm}`)
    );
  },
});

Deno.test({
  name: titled("the GPT training graph gives the same losses on webgpu as on cpu", probes.webgpu),
  ignore: probes.webgpu.backend === undefined,
  async fn() {
    const cpu = await losses("cpu", 2), gpu = await losses("webgpu", 2);
    cpu.forEach((l, i) =>
      assert.ok(Math.abs(l - gpu[i]!) < 1e-3 * Math.max(1, l), `${cpu} vs ${gpu}`)
    );
  },
});

// Two windows of 32 UTF-8 bytes of the English fixture, each target the next byte.
const text = new TextEncoder().encode(await readFixtureText("en"));
const OB = 2, OT = 32;
const windows = Array.from({ length: OB * OT }, (_, i) => Math.floor(i / OT) * 997 + (i % OT));
const overfitData = {
  tokens: int64Tensor(windows.map((at) => text[at]!), [OB, OT]),
  targets: int64Tensor(windows.map((at) => text[at + 1]!), [OB, OT]),
};

// Near zero: 0.05 nats, a mean probability of 0.95 on the right byte. All three backends cross it
// near step 80 and end near 2e-3, so 120 steps keep a margin while webgpu on a software adapter
// (~0.3 s a step) stays under a minute.
for (const name of BACKEND_NAMES) {
  const probe = probes[name];
  Deno.test({
    name: titled(
      `a 2-layer GPT overfits a fixture batch of UTF-8 bytes to near-zero loss on ${name}`,
      probe,
    ),
    ignore: probe.backend === undefined,
    async fn() {
      const tg = buildGPTTraining(GPT_CONFIGS.tiny, { batch: OB, seqLen: OT, seed: 1 }, {
        beta1: 0.9,
        beta2: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        clipNorm: 1,
      });
      const losses = await trainLosses(probe.backend!, tg, overfitData, 120, 1e-2);
      assert.ok(Math.abs(losses[0]! - Math.log(256)) < 0.3, `initial loss ${losses[0]} ≉ ln 256`);
      assert.ok(losses.at(-1)! < 0.05, `final loss ${losses.at(-1)}`);
    },
  });
}
