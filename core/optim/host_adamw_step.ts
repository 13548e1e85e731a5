/**
 * A training step whose graph computes the gradients and whose AdamW runs on the host, in place
 * ({@linkcode HostAdamW}): for the backends whose tensors live in host memory (cpu, wasm), where
 * an in-graph update would hold three copies of the state. Saves and restores the same state
 * names as the in-graph step, so checkpoints move freely between the two.
 *
 * @module
 */
import {
  type Backend,
  collectGarbage,
  type HostTensor,
  LARGE_STATE_BYTES,
  type StateStore,
  type StepResult,
  TrainingStep,
} from "../runtime/mod.ts";
import type { AdamWConfig } from "./adamw.ts";
import { HostAdamW } from "./host_adamw.ts";
import {
  buildGradientStep,
  type BuildLoss,
  buildTrainingStep,
  gradientName,
  type TrainingGraph,
} from "./training_graph.ts";

/**
 * Loads a fused training step for `backend`: a gradient graph with AdamW on the host where tensors
 * live in host memory (cpu, wasm), forward + backward + AdamW in one graph elsewhere (webgpu,
 * where the state stays in GPU buffers).
 *
 * @param backend Where to run.
 * @param name The graph's name.
 * @param build The model's training objective.
 * @param cfg AdamW hyper-parameters.
 * @returns The step; both kinds run, save and restore alike.
 *
 * @example
 * ```ts
 * import { mul, reduceSum } from "../graph/mod.ts";
 * import { openCpu } from "../runtime/mod.ts";
 * import { ADAMW_DEFAULTS, HostAdamWStep, loadFusedStep } from "./mod.ts";
 * const step = await loadFusedStep(await openCpu({ threads: 1 }), "sq", (g) => {
 *   const w = g.parameter("w", [2], Float32Array.of(1, 2));
 *   return reduceSum(mul(w, w));
 * }, ADAMW_DEFAULTS);
 * console.assert(step instanceof HostAdamWStep);
 * await step.dispose();
 * ```
 */
export async function loadFusedStep(
  backend: Backend,
  name: string,
  build: BuildLoss,
  cfg: AdamWConfig,
): Promise<TrainingStep | HostAdamWStep> {
  if (!backend.capabilities.keepsOutputsOnDevice) {
    return await HostAdamWStep.create(backend, buildGradientStep(name, build), cfg);
  }
  const tg = buildTrainingStep(name, build, cfg);
  return await TrainingStep.create(backend, tg.model, {
    bindings: tg.bindings,
    state: tg.initialState,
  });
}

/** A gradient graph run on a host-memory backend, with AdamW applied on the host. */
export class HostAdamWStep {
  private constructor(
    private readonly inner: TrainingStep,
    private readonly adam: HostAdamW,
    /** Collect garbage after each update (large state, as {@linkcode TrainingStep} does). */
    private readonly large: boolean,
  ) {}

  /**
   * Loads a graph of {@linkcode buildGradientStep} and copies its initial parameters (they are
   * updated in place; the graph's own values stay as built).
   *
   * @param backend A backend whose tensors live in host memory.
   * @param graph The gradient graph.
   * @param cfg AdamW hyper-parameters.
   * @returns The step.
   * @throws {RangeError} If the backend keeps tensors on a device of its own.
   *
   * @example
   * ```ts
   * import { mul, reduceSum, sub } from "../graph/mod.ts";
   * import { openCpu } from "../runtime/mod.ts";
   * import { ADAMW_DEFAULTS, buildGradientStep, HostAdamWStep } from "./mod.ts";
   * const graph = buildGradientStep("sq", (g) => {
   *   const d = sub(g.parameter("w", [2], Float32Array.of(1, 2)), g.input("x", "float32", [2]));
   *   return reduceSum(mul(d, d));
   * });
   * const step = await HostAdamWStep.create(await openCpu({ threads: 1 }), graph, ADAMW_DEFAULTS);
   * const first = await step.run({ x: { dtype: "float32", dims: [2], data: Float32Array.of(0, 0) }, lr: 0.1, step: 1 });
   * console.assert(first.loss === 5 && step.stateNames().includes("w.adam_v"));
   * await step.dispose();
   * ```
   */
  static async create(
    backend: Backend,
    graph: TrainingGraph,
    cfg: AdamWConfig,
  ): Promise<HostAdamWStep> {
    if (backend.capabilities.keepsOutputsOnDevice) {
      throw new RangeError(
        `Cannot run AdamW on the host for backend "${backend.name}": its tensors live on the device`,
      );
    }
    // Trainable values are updated in place: copied, so the graph's stay as built. Frozen ones
    // (a teacher beside its student) are only read.
    const trainable = graph.graph.parameters.filter((p) => p.trainable);
    const updated = new Set(trainable.map((p) => p.tensor.name));
    const state = new Map<string, Float32Array>();
    let bytes = 0; // the whole state's, moments included: what an in-graph step would hold
    for (const [name, value] of graph.initialState) {
      state.set(name, updated.has(name) ? value.slice() : value);
      bytes += value.byteLength * (updated.has(name) ? 3 : 1);
    }
    const large = bytes >= LARGE_STATE_BYTES;
    const inner = await TrainingStep.create(backend, graph.model, {
      bindings: [],
      state,
      session: { arena: !large },
    });
    const adam = new HostAdamW(
      cfg,
      trainable.map((p) => ({
        name: p.tensor.name,
        data: state.get(p.tensor.name)!,
        decay: p.decay,
      })),
    );
    return new HostAdamWStep(inner, adam, large);
  }

  /** Where the parameters live, for graphs that read them (evaluation). */
  get store(): StateStore {
    return this.inner.store;
  }

  /** How many steps have run. */
  get steps(): number {
    return this.inner.steps;
  }

  /**
   * Runs forward and backward, then AdamW on the host.
   *
   * @param feeds The graph's data inputs, and `lr` and `step` (from 1) for the update.
   * @returns The loss, `grad_norm` (before clipping) and the graph's other outputs.
   */
  async run(feeds: Readonly<Record<string, HostTensor | number>>): Promise<StepResult> {
    const { lr, step, ...data } = feeds;
    if (typeof lr !== "number" || typeof step !== "number") {
      throw new RangeError("Cannot run the step: lr and step must be given as numbers");
    }
    const { loss, outputs } = await this.inner.run(data);
    const grads = new Map<string, Float32Array>();
    for (const p of this.adam.params) {
      grads.set(p.name, outputs[gradientName(p.name)]!.data as Float32Array);
    }
    const gradNorm = Number(outputs.grad_norm!.data[0]);
    this.adam.update(grads, gradNorm, lr, step);
    // The gradients' arrays are garbage now; collected before the next run allocates its own.
    for (const p of this.adam.params) delete outputs[gradientName(p.name)];
    if (this.large) collectGarbage();
    return { loss, outputs };
  }

  /** Every state name: the parameters, then `<p>.adam_m` and `<p>.adam_v`. */
  stateNames(): string[] {
    return [...this.inner.stateNames(), ...this.adam.state().keys()];
  }

  /**
   * Copies the parameters and moments to the host (for checkpoints).
   *
   * @param keep Which state to copy (default: all).
   */
  async readState(
    keep: (name: string) => boolean = () => true,
  ): Promise<Record<string, HostTensor>> {
    const out = await this.inner.readState(keep);
    for (const [name, data] of this.adam.state()) {
      if (keep(name)) out[name] = { dtype: "float32", dims: this.dimsOf(name), data: data.slice() };
    }
    return out;
  }

  /**
   * Replaces parameters and moments in place (resuming).
   *
   * @throws {RangeError} If a name is not state or a value's dtype or shape differs.
   */
  writeState(state: Readonly<Record<string, HostTensor>>): void {
    const moments = this.adam.state();
    const params = new Map(this.adam.params.map((p) => [p.name, p.data]));
    const targets: [Float32Array, HostTensor][] = [];
    for (const [name, value] of Object.entries(state)) {
      const target = moments.get(name) ?? params.get(name);
      if (target === undefined) {
        // Frozen parameters are not updated in place: the inner step replaces them.
        this.inner.writeState({ [name]: value });
        continue;
      }
      const dims = this.dimsOf(name);
      if (value.dtype !== "float32" || value.dims.join() !== dims.join()) {
        throw new RangeError(
          `Cannot set state "${name}": got ${value.dtype}[${value.dims.join(", ")}], ` +
            `the graph holds float32[${dims.join(", ")}]`,
        );
      }
      targets.push([target, value]);
    }
    for (const [target, value] of targets) target.set(value.data as Float32Array);
  }

  /** Frees the session and the parameters. */
  dispose(): Promise<void> {
    return this.inner.dispose();
  }

  /** The dims of a parameter, or of the parameter whose moment `name` is. */
  private dimsOf(name: string): readonly number[] {
    const param = name.replace(/\.adam_[mv]$/, "");
    return this.inner.store.get(param)!.dims;
  }
}
