import assert from "node:assert/strict";
import {
  ADAM,
  ADAM_BINDINGS,
  adamRegressionModel,
  type Backend,
  type BackendName,
  float32,
  type HostTensor,
  openCpu,
  openWasm,
  openWebGpu,
  sgdStepModel,
  StateStore,
  TrainingStep,
} from "../../../core/runtime/mod.ts";

const B = 8;
const D = 5;
const STEPS = 6;
// Threads and GPU buffers outlive single tests; the backends are process-wide by design.
const loose = { sanitizeOps: false, sanitizeResources: false };

/** Deterministic data: a linear target with a little structure, no randomness. */
function problem() {
  const X = Array.from({ length: B * D }, (_, i) => Math.sin(i * 1.7) + 0.1 * (i % 3));
  const y = Array.from({ length: B }, (_, b) => Math.cos(b) * 2);
  const w0 = Array.from({ length: D }, (_, i) => 0.3 * (i - 2));
  return { X, y, w0 };
}

/** Float64 reference of the Adam regression step, `steps` times; losses and final state. */
function adamReference(steps: number, lrOf: (t: number) => number) {
  const { X, y, w0 } = problem();
  const w = [...w0];
  const m = new Array<number>(D).fill(0);
  const v = new Array<number>(D).fill(0);
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const r = y.map((yb, b) => w.reduce((s, wd, d) => s + X[b * D + d]! * wd, 0) - yb);
    losses.push(r.reduce((s, x) => s + x * x, 0) / (2 * B));
    for (let d = 0; d < D; d++) {
      const g = r.reduce((s, rb, b) => s + X[b * D + d]! * rb, 0) / B;
      m[d] = ADAM.beta1 * m[d]! + (1 - ADAM.beta1) * g;
      v[d] = ADAM.beta2 * v[d]! + (1 - ADAM.beta2) * g * g;
      const mHat = m[d]! / (1 - ADAM.beta1 ** t);
      const vHat = v[d]! / (1 - ADAM.beta2 ** t);
      w[d] = w[d]! - lrOf(t) * mHat / (Math.sqrt(vHat) + ADAM.eps);
    }
  }
  return { losses, w, m, v };
}

async function runAdam(backend: Backend, steps: number, lrOf: (t: number) => number) {
  const { X, y, w0 } = problem();
  const zeros = float32(new Array<number>(D).fill(0), [D, 1]);
  const step = await TrainingStep.create(backend, adamRegressionModel(B, D), {
    bindings: ADAM_BINDINGS,
    state: { w: float32(w0, [D, 1]), m: zeros, v: zeros },
  });
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const result = await step.run({
      X: float32(X, [B, D]),
      y: float32(y, [B, 1]),
      lr: lrOf(t),
      step: t,
    });
    losses.push(result.loss);
  }
  const locations = step.locations();
  const state = await step.readState();
  await step.dispose();
  return { losses, state, locations };
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

const lrOf = (t: number) => 0.05 / Math.sqrt(t); // a schedule computed outside the graph
const openers: Record<BackendName, () => Promise<Backend>> = {
  cpu: () => openCpu({ threads: 2 }),
  wasm: () => openWasm({ threads: 2 }),
  webgpu: () => openWebGpu(),
};

for (const name of ["cpu", "wasm", "webgpu"] as const) {
  Deno.test({
    name:
      `TrainingStep on ${name} feeds state back over ${STEPS} Adam steps like a float64 reference`,
    ...loose,
    fn: async () => {
      const expected = adamReference(STEPS, lrOf);
      const { losses, state } = await runAdam(await openers[name](), STEPS, lrOf);
      // float32 arithmetic over 6 steps: relative 1e-4 is ~1000 ulps of headroom.
      assertClose(losses, expected.losses, 1e-4, "loss");
      assertClose(state.w!.data as Float32Array, expected.w, 1e-4, "w");
      assertClose(state.m!.data as Float32Array, expected.m, 1e-4, "m");
      assertClose(state.v!.data as Float32Array, expected.v, 1e-4, "v");
      assert.ok(expected.losses.at(-1)! < expected.losses[0]!, "the reference loss falls");
    },
  });
}

Deno.test({
  name: "the same training graph gives the same loss and state on cpu, wasm and webgpu",
  ...loose,
  fn: async () => {
    const results = [];
    for (const name of ["cpu", "wasm", "webgpu"] as const) {
      results.push(await runAdam(await openers[name](), 3, lrOf));
    }
    const [cpu, ...others] = results;
    for (const other of others) {
      assertClose(other.losses, cpu!.losses, 1e-5, "loss");
      for (const key of ["w", "m", "v"]) {
        const a = other.state[key] as HostTensor;
        assertClose(a.data as Float32Array, cpu!.state[key]!.data as Float32Array, 1e-5, key);
      }
    }
  },
});

Deno.test({
  name: "TrainingStep keeps the state in GPU buffers on webgpu and in host memory on cpu",
  ...loose,
  fn: async () => {
    const gpu = await runAdam(await openWebGpu(), 2, lrOf);
    assert.deepEqual(gpu.locations, { w: "gpu-buffer", m: "gpu-buffer", v: "gpu-buffer" });
    const cpu = await runAdam(await openCpu({ threads: 1 }), 2, lrOf);
    assert.deepEqual(cpu.locations, { w: "cpu", m: "cpu", v: "cpu" });
  },
});

Deno.test("TrainingStep.create() names a binding whose output the graph lacks", async () => {
  const backend = await openCpu({ threads: 1 });
  await assert.rejects(
    TrainingStep.create(backend, sgdStepModel(2), {
      bindings: [{ input: "w", output: "w_new" }],
      state: { w: float32([1, 2]) },
    }),
    { message: 'Invalid binding "w_new" → "w": the graph has no output "w_new"' },
  );
});

Deno.test("TrainingStep.create() rejects initial state of the wrong shape, naming both shapes", async () => {
  const backend = await openCpu({ threads: 1 });
  await assert.rejects(
    TrainingStep.create(backend, sgdStepModel(2), {
      bindings: [{ input: "w", output: "w_next" }],
      state: { w: float32([1, 2, 3]) },
    }),
    { message: 'Invalid initial state "w": got float32[3], the graph expects float32[2]' },
  );
});

Deno.test("TrainingStep.run() names a missing feed and refuses to feed state", async () => {
  const step = await TrainingStep.create(await openCpu({ threads: 1 }), sgdStepModel(2), {
    bindings: [{ input: "w", output: "w_next" }],
    state: { w: float32([1, 2]) },
  });
  await assert.rejects(step.run({ x: float32([0, 0]) }), {
    message: 'Cannot run the step: missing input "lr"',
  });
  await assert.rejects(step.run({ w: float32([0, 0]), x: float32([0, 0]), lr: 1 }), {
    message: 'Cannot feed "w": it is state, held on the backend',
  });
  await step.dispose();
});

Deno.test("TrainingStep.writeState() resumes from host values and checks their shape", async () => {
  const step = await TrainingStep.create(await openCpu({ threads: 1 }), sgdStepModel(2), {
    bindings: [{ input: "w", output: "w_next" }],
    state: { w: float32([1, 2]) },
  });
  step.writeState({ w: float32([10, 20]) });
  const { loss } = await step.run({ x: float32([0, 0]), lr: 0.5 });
  assert.equal(loss, 250); // ½(10² + 20²)
  assert.deepEqual([...(await step.readState()).w!.data as Float32Array], [5, 10]);
  assert.throws(() => step.writeState({ w: float32([1]) }), {
    message: 'Cannot set state "w": got float32[1], the graph holds float32[2]',
  });
  await step.dispose();
});

Deno.test("two training steps over one shared store see each other's updates", async () => {
  const cpu = await openCpu({ threads: 1 });
  const store = new StateStore();
  const bindings = [{ input: "w", output: "w_next" }];
  const a = await TrainingStep.create(cpu, sgdStepModel(2), {
    bindings,
    state: { w: float32([8, 4]) },
    store,
  });
  // The store already holds "w": b's initial value is ignored, the shared value wins.
  const b = await TrainingStep.create(cpu, sgdStepModel(2), {
    bindings,
    state: { w: float32([0, 0]) },
    store,
  });
  await a.run({ x: float32([0, 0]), lr: 0.5 }); // w = [4, 2]
  const { loss } = await b.run({ x: float32([0, 0]), lr: 0.5 }); // sees [4, 2], w = [2, 1]
  assert.equal(loss, 10);
  assert.deepEqual([...(await a.readState()).w!.data as Float32Array], [2, 1]);
  await a.dispose();
  await b.dispose();
  assert.ok(store.has("w"), "a shared store outlives the steps that use it");
  store.dispose();
});

Deno.test({
  name: "TrainingStep keeps unbound initial values on the device and feeds them every step",
  ...loose,
  fn: async () => {
    const { X, y, w0 } = problem();
    const expected = adamReference(3, lrOf);
    for (const backend of [await openCpu({ threads: 1 }), await openWebGpu()]) {
      const step = await TrainingStep.create(backend, adamRegressionModel(B, D), {
        bindings: ADAM_BINDINGS,
        // bare Float32Array data takes its shape from the graph input
        state: new Map([
          ["w", Float32Array.from(w0)],
          ["m", new Float32Array(D)],
          ["v", new Float32Array(D)],
          ["X", Float32Array.from(X)],
        ]),
      });
      const losses = [];
      for (let t = 1; t <= 3; t++) {
        losses.push((await step.run({ y: float32(y, [B, 1]), lr: lrOf(t), step: t })).loss);
      }
      assertClose(losses, expected.losses, 1e-4, `${backend.name} loss`);
      await step.dispose();
    }
  },
});

Deno.test("TrainingStep.create() rejects bare initial data of the wrong length", async () => {
  await assert.rejects(
    TrainingStep.create(await openCpu({ threads: 1 }), sgdStepModel(2), {
      bindings: [{ input: "w", output: "w_next" }],
      state: { w: new Float32Array(5) },
    }),
    { message: 'Invalid initial state "w": got 5 float32 values, the graph expects float32[2]' },
  );
});

Deno.test("TrainingStep.create() names bound inputs without an initial value", async () => {
  await assert.rejects(
    TrainingStep.create(await openCpu({ threads: 1 }), sgdStepModel(2), {
      bindings: [{ input: "w", output: "w_next" }],
    }),
    { message: 'Cannot start the training step: no initial state for "w"' },
  );
});
