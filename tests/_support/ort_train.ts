/**
 * A minimal onnxruntime-node training loop for tests (the product's runtime lives in
 * `core/runtime/`): keeps the bound state as tensors and feeds each output back to its input.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import type { TrainingGraph } from "../../core/optim/mod.ts";

/** Runs steps of one training graph on the CPU EP. */
export interface Trainer {
  state: Map<string, ort.Tensor>;
  run(data: Record<string, ort.Tensor>, lr: number, step: number): Promise<Record<string, number>>;
  release(): Promise<void>;
}

/** Opens a session for `tg` with its initial state (optionally shared with another trainer). */
export async function openTrainer(
  tg: TrainingGraph,
  shared?: Map<string, ort.Tensor>,
): Promise<Trainer> {
  const session = await ort.InferenceSession.create(tg.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 2,
  });
  const state = shared ?? new Map<string, ort.Tensor>();
  const shapes = new Map(tg.graph.inputs.map((t) => [t.name, [...t.shape]]));
  for (const p of tg.graph.parameters) shapes.set(p.tensor.name, [...p.tensor.shape]);
  for (const [name, v] of tg.initialState) {
    if (!state.has(name)) state.set(name, new ort.Tensor("float32", v.slice(), shapes.get(name)!));
  }
  const inputNames = new Set(session.inputNames);
  return {
    state,
    async run(data, lr, step) {
      const feeds: Record<string, ort.Tensor> = { ...data };
      if (inputNames.has("lr")) feeds.lr = new ort.Tensor("float32", Float32Array.of(lr), []);
      if (inputNames.has("step")) feeds.step = new ort.Tensor("float32", Float32Array.of(step), []);
      for (const name of inputNames) {
        const s = state.get(name);
        if (s && !feeds[name]) feeds[name] = s;
      }
      const out = await session.run(feeds);
      for (const b of tg.bindings) state.set(b.input, out[b.output]!);
      const scalars: Record<string, number> = {};
      for (const [k, v] of Object.entries(out)) if (v.size === 1) scalars[k] = Number(v.data[0]);
      return scalars;
    },
    release: () => session.release(),
  };
}

/** An int64 ORT tensor from numbers. */
export function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor("int64", BigInt64Array.from(Array.from(values), BigInt), dims);
}
