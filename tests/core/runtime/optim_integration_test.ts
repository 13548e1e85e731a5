import assert from "node:assert/strict";
import { matMul, mul, reduceMean, sub } from "../../../core/graph/mod.ts";
import { ADAMW_DEFAULTS, buildTrainingStep } from "../../../core/optim/mod.ts";
import { float32, openCpu, openWasm, openWebGpu, TrainingStep } from "../../../core/runtime/mod.ts";

// Threads and GPU buffers outlive single tests; the backends are process-wide by design.
const loose = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "a graph from buildTrainingStep() trains to the same losses on cpu, wasm and webgpu",
  ...loose,
  fn: async () => {
    const graph = buildTrainingStep("linear", (g) => {
      const x = g.input("x", "float32", [4, 3]);
      const y = g.input("y", "float32", [4, 1]);
      const w = g.parameter("w", [3, 1], Float32Array.of(0.1, -0.2, 0.3));
      const r = sub(matMul(x, w), y); // [4, 3]·[3, 1] → [4, 1]
      return reduceMean(mul(r, r));
    }, ADAMW_DEFAULTS);
    const x = float32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [4, 3]);
    const y = float32([1, 2, 3, 4], [4, 1]);
    const curves: number[][] = [];
    for (
      const backend of [
        await openCpu({ threads: 2 }),
        await openWasm({ threads: 2 }),
        await openWebGpu(),
      ]
    ) {
      const step = await TrainingStep.create(backend, graph.model, {
        bindings: graph.bindings,
        state: graph.initialState,
      });
      const losses = [];
      for (let t = 1; t <= 5; t++) losses.push((await step.run({ x, y, lr: 0.01, step: t })).loss);
      curves.push(losses);
      await step.dispose();
    }
    const [cpu, ...others] = curves;
    assert.ok(cpu!.at(-1)! < cpu![0]! / 4, `the loss falls: ${cpu}`);
    for (const other of others) {
      other.forEach((l, i) =>
        assert.ok(Math.abs(l - cpu![i]!) <= 1e-5 * (1 + cpu![i]!), `${l} vs ${cpu![i]}`)
      );
    }
  },
});
