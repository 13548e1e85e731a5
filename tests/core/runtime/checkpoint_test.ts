import assert from "node:assert/strict";
import {
  ADAM_BINDINGS,
  adamRegressionModel,
  float32,
  loadTrainingState,
  openCpu,
  saveSafetensors,
  saveTrainingState,
  TrainingStep,
} from "../../../core/runtime/mod.ts";

const B = 4;
const D = 3;
const X = float32(Array.from({ length: B * D }, (_, i) => Math.cos(i)), [B, D]);
const y = float32([1, -1, 0.5, 2], [B, 1]);
const initial = () => ({
  w: float32([0.1, 0.2, 0.3], [D, 1]),
  m: float32([0, 0, 0], [D, 1]),
  v: float32([0, 0, 0], [D, 1]),
});

Deno.test("a run resumed from a saved state continues exactly like an uninterrupted run", async () => {
  const cpu = await openCpu({ threads: 1 });
  const model = adamRegressionModel(B, D);
  const options = { bindings: ADAM_BINDINGS, state: initial() };
  const straight = await TrainingStep.create(cpu, model, options);
  const straightLosses = [];
  for (let t = 1; t <= 4; t++) {
    straightLosses.push((await straight.run({ X, y, lr: 0.1, step: t })).loss);
  }

  const first = await TrainingStep.create(cpu, model, options);
  for (let t = 1; t <= 2; t++) await first.run({ X, y, lr: 0.1, step: t });
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await saveTrainingState(path, first, { lr: "0.1" });
    const resumed = await TrainingStep.create(cpu, model, options);
    const metadata = await loadTrainingState(path, resumed);
    assert.deepEqual(metadata, { lr: "0.1", step: "2" });
    const resumedLosses = [];
    for (let t = 3; t <= 4; t++) {
      resumedLosses.push((await resumed.run({ X, y, lr: 0.1, step: t })).loss);
    }
    assert.deepEqual(resumedLosses, straightLosses.slice(2));
    assert.deepEqual(await resumed.readState(), await straight.readState());
    await resumed.dispose();
  } finally {
    await Promise.all([straight.dispose(), first.dispose(), Deno.remove(path)]);
  }
});

Deno.test("loadTrainingState() names missing and unknown tensors and the file", async () => {
  const cpu = await openCpu({ threads: 1 });
  const runner = await TrainingStep.create(cpu, adamRegressionModel(B, D), {
    bindings: ADAM_BINDINGS,
    state: initial(),
  });
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    const { w, m } = initial();
    await saveSafetensors(path, { w, m, extra: float32([1]) });
    await assert.rejects(loadTrainingState(path, runner), {
      name: "RangeError",
      message: `Cannot restore state from "${path}": missing "v"; unknown "extra"`,
    });
    await saveSafetensors(path, { ...initial(), w: float32([1, 2], [2, 1]) });
    await assert.rejects(loadTrainingState(path, runner), {
      message:
        `Cannot restore state from "${path}": Cannot set state "w": got float32[2, 1], the graph holds float32[3, 1]`,
    });
  } finally {
    await Promise.all([runner.dispose(), Deno.remove(path)]);
  }
});
