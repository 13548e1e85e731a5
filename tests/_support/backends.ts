/**
 * Every backend, probed once per test module, and a loop that trains a graph on one of them.
 * A test that needs a backend registers itself with `ignore` set when the probe failed and the
 * reason in its name, so a skipped backend shows up in the report instead of passing silently.
 *
 * @module
 */
import type { TrainingGraph } from "../../core/optim/mod.ts";
import {
  type Backend,
  BACKEND_NAMES,
  type BackendName,
  BackendUnavailableError,
  type HostTensor,
  openBackend,
  reasonOf,
  TrainingStep,
} from "../../core/runtime/mod.ts";

/** A backend that opened, or why it did not. */
export type Probe = { backend: Backend; reason?: undefined } | {
  backend?: undefined;
  reason: string;
};

/**
 * Opens each backend once (one thread: the WASM module's thread count is fixed per process; the
 * software WebGPU adapter is accepted, as `--backend webgpu` accepts it).
 *
 * @returns The probe of every backend by name.
 */
export async function probeBackends(): Promise<Record<BackendName, Probe>> {
  const out: Partial<Record<BackendName, Probe>> = {};
  for (const name of BACKEND_NAMES) {
    out[name] = await openBackend(name, { threads: 1 }).then(
      ({ backend }) => ({ backend }),
      (e) => ({ reason: e instanceof BackendUnavailableError ? e.reason : reasonOf(e) }),
    );
  }
  return out as Record<BackendName, Probe>;
}

/** A test title with the reason it is skipped, when the backend is unavailable. */
export function titled(title: string, probe: Probe): string {
  return probe.reason === undefined ? title : `${title} (skipped: ${probe.reason})`;
}

/**
 * Runs `steps` optimizer steps of `tg` on `backend` with the same data each step.
 *
 * @returns The loss of every step.
 */
export async function trainLosses(
  backend: Backend,
  tg: TrainingGraph,
  data: Record<string, HostTensor>,
  steps: number,
  lr: number,
): Promise<number[]> {
  const step = await TrainingStep.create(backend, tg.model, {
    bindings: tg.bindings,
    state: tg.initialState,
  });
  const losses: number[] = [];
  try {
    for (let t = 1; t <= steps; t++) losses.push((await step.run({ ...data, lr, step: t })).loss);
  } finally {
    await step.dispose();
  }
  return losses;
}

/** An int64 host tensor from numbers. */
export function int64Tensor(values: ArrayLike<number>, dims: number[]): HostTensor {
  return { dtype: "int64", dims, data: BigInt64Array.from(Array.from(values), BigInt) };
}
