import assert from "node:assert/strict";
import { type Graph, matMul, mul, reduceMean, tanh } from "../../../core/graph/mod.ts";
import {
  ADAMW_DEFAULTS,
  buildGradientStep,
  buildTrainingStep,
  HostAdamWStep,
} from "../../../core/optim/mod.ts";
import {
  type HostTensor,
  loadTrainingState,
  openCpu,
  saveTrainingState,
  TrainingStep,
} from "../../../core/runtime/mod.ts";
import { rng } from "../../_support/grad_check.ts";

/** A two-layer tanh network's mean squared output on a batch `x` of 4 × 3. */
function network(g: Graph) {
  const r = rng(11);
  const init = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5);
  const x = g.input("x", "float32", [4, 3]);
  const h = tanh(matMul(x, g.parameter("w1", [3, 5], init(15))));
  const y = matMul(h, g.parameter("w2", [5, 2], init(10), { decay: false }));
  return reduceMean(mul(y, y));
}

const batch = (i: number): HostTensor => {
  const r = rng(100 + i);
  return {
    dtype: "float32",
    dims: [4, 3],
    data: Float32Array.from({ length: 12 }, () => r() * 2 - 1),
  };
};

async function bothSteps() {
  const cpu = await openCpu({ threads: 1 });
  const inGraph = buildTrainingStep("net", network, ADAMW_DEFAULTS);
  const graphStep = await TrainingStep.create(cpu, inGraph.model, {
    bindings: inGraph.bindings,
    state: inGraph.initialState,
  });
  const hostStep = await HostAdamWStep.create(
    cpu,
    buildGradientStep("net", network),
    ADAMW_DEFAULTS,
  );
  return { graphStep, hostStep };
}

function assertClose(a: Record<string, HostTensor>, b: Record<string, HostTensor>, what: string) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const [name, t] of Object.entries(a)) {
    t.data.forEach((v, i) => {
      const w = Number(b[name]!.data[i]);
      assert.ok(Math.abs(Number(v) - w) < 1e-5 * (1 + Math.abs(w)), `${what}: ${name}[${i}]`);
    });
  }
}

Deno.test("AdamW on the host trains like AdamW in the graph, and each resumes the other's checkpoint", async () => {
  const { graphStep, hostStep } = await bothSteps();
  for (let t = 1; t <= 3; t++) {
    const a = await graphStep.run({ x: batch(t), lr: 0.05, step: t });
    const b = await hostStep.run({ x: batch(t), lr: 0.05, step: t });
    assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `step ${t} loss ${a.loss} vs ${b.loss}`);
    assert.ok(
      Math.abs(Number(a.outputs.grad_norm!.data[0]) - Number(b.outputs.grad_norm!.data[0])) < 1e-5,
    );
  }
  assertClose(await hostStep.readState(), await graphStep.readState(), "after 3 steps");
  assert.ok((await graphStep.readState())["w1.adam_m"]!.data.some((v) => v !== 0));

  // Each resumes from the other's checkpoint, then both run on: still the same state.
  const [fromGraph, fromHost] = [await Deno.makeTempFile(), await Deno.makeTempFile()];
  await saveTrainingState(fromGraph, graphStep);
  await saveTrainingState(fromHost, hostStep);
  const resumed = await bothSteps();
  assert.equal((await loadTrainingState(fromGraph, resumed.hostStep)).step, "3");
  await loadTrainingState(fromHost, resumed.graphStep);
  for (const s of [graphStep, hostStep, resumed.graphStep, resumed.hostStep]) {
    await s.run({ x: batch(4), lr: 0.05, step: 4 });
  }
  const reference = await graphStep.readState();
  assertClose(await resumed.hostStep.readState(), reference, "host step resumed from the graph's");
  assertClose(await resumed.graphStep.readState(), reference, "graph step resumed from the host's");
  for (const s of [graphStep, hostStep, resumed.graphStep, resumed.hostStep]) await s.dispose();
  await Promise.all([Deno.remove(fromGraph), Deno.remove(fromHost)]);
});

Deno.test("a host step refuses a checkpoint tensor of another shape and names it", async () => {
  const { graphStep, hostStep } = await bothSteps();
  const wrong = {
    "w1.adam_m": { dtype: "float32", dims: [5, 3], data: new Float32Array(15) },
  } as const;
  assert.throws(() => hostStep.writeState(wrong), /"w1\.adam_m".*float32\[5, 3\].*float32\[3, 5\]/);
  assert.throws(() => hostStep.writeState({ nope: wrong["w1.adam_m"] }), /"nope"/);
  await graphStep.dispose();
  await hostStep.dispose();
});
