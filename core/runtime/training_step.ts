/**
 * Runs a training-step graph over and over, keeping its state (parameters, optimizer moments) on
 * the backend between runs. The graph's inputs are the state, the data batch and scalars such as
 * `lr` and `step`; its outputs are `loss`, the updated state and anything else. Each
 * {@linkcode StateBinding} says which output becomes which input on the next step.
 *
 * On webgpu the bound outputs stay in GPU buffers and are fed straight back, so a step moves only
 * the batch up and the loss down. On cpu and wasm the output tensors are fed back as they are:
 * onnxruntime reads inputs in place, but copies each output into a fresh array (onnxruntime-node
 * 1.30 does so even for pre-allocated outputs), so bound state is held three times at the end of
 * a step; the GPT trainer there runs a gradient graph here and AdamW on the host instead
 * (`core/optim/host_adamw_step.ts`). Other outputs are handed over without a further copy. The
 * state comes back to the host only when asked ({@linkcode TrainingStep.readState}).
 *
 * @module
 */
import type { Backend, DeviceTensor, Session, SessionOptions } from "./backend.ts";
import { tensorInfo } from "./_ort_session.ts";
import { type HostTensor, isHostDType, scalar, sizeOf } from "./host_tensor.ts";
import { StateStore } from "./state_store.ts";

/** Output `output` of one step is input `input` of the next. */
export interface StateBinding {
  input: string;
  output: string;
}

/** An initial value: a host tensor, or bare float32 data shaped by the graph input. */
export type InitialValue = HostTensor | Float32Array;

/** How to set up a {@linkcode TrainingStep}. */
export interface TrainingStepOptions {
  /** Which output feeds which input on the next step. */
  bindings: readonly StateBinding[];
  /**
   * Initial values by input name: every bound input not already in `store`, plus any unbound
   * input to keep on the device and feed every step (frozen parameters). Values already in the
   * store win, so a second graph over a shared store keeps the current state.
   */
  state?: Readonly<Record<string, InitialValue>> | ReadonlyMap<string, InitialValue>;
  /** A store shared with other steps on the same backend (default: a store of its own). */
  store?: StateStore;
  /** The output that holds the scalar loss (default `"loss"`). */
  lossOutput?: string;
  /** Session threads and spinning (default: the backend's; see `SessionOptions`). */
  session?: Pick<SessionOptions, "threads" | "spinning" | "arena">;
}

/** What one step returns. */
export interface StepResult {
  /** The loss as a number (NaN if the graph has no loss output). */
  loss: number;
  /** Every output that is not state, on the host (the loss included). */
  outputs: Record<string, HostTensor>;
}

/** A training-step graph loaded on a backend, with its state held there. */
export class TrainingStep {
  #steps = 0;

  private constructor(
    /** The session that runs the step. */
    readonly session: Session,
    /** Which output feeds which input on the next step. */
    readonly bindings: readonly StateBinding[],
    /** The output that holds the loss. */
    readonly lossOutput: string,
    /** Where the state lives; shared when it was passed in. */
    readonly store: StateStore,
    private readonly ownsStore: boolean,
    /** Collect garbage after each step (large state, see {@linkcode collectGarbage}). */
    private readonly collect: boolean,
  ) {}

  /**
   * Loads the step graph and uploads the initial state that the store lacks.
   *
   * @param backend The backend to run on.
   * @param model `ModelProto` bytes of the training step.
   * @param options Bindings, initial state, shared store, loss output name.
   * @returns The runner.
   * @throws {RangeError} If a binding names a missing input or output, a bound input has no
   *   value, or an initial value's dtype or shape differs from the graph's.
   *
   * @example
   * ```ts
   * import { openCpu } from "./cpu.ts";
   * import { float32 } from "./host_tensor.ts";
   * import { sgdStepModel } from "./sample_models.ts";
   * import { TrainingStep } from "./training_step.ts";
   * const step = await TrainingStep.create(await openCpu({ threads: 1 }), sgdStepModel(2), {
   *   bindings: [{ input: "w", output: "w_next" }],
   *   state: { w: float32([1, 2]) },
   * });
   * // loss = ½‖w − x‖², w ← w − lr·(w − x)
   * const { loss } = await step.run({ x: float32([0, 0]), lr: 0.5 });
   * console.assert(loss === 2.5);
   * console.assert((await step.readState()).w?.data[1] === 1);
   * await step.dispose();
   * ```
   */
  static async create(
    backend: Backend,
    model: Uint8Array,
    options: TrainingStepOptions,
  ): Promise<TrainingStep> {
    const outputs = options.bindings.map((b) => b.output);
    const large = stateBytes(options) >= LARGE_STATE_BYTES;
    const session = await backend.createSession(model, {
      arena: !large,
      ...options.session,
      deviceOutputs: outputs,
    });
    const store = options.store ?? new StateStore();
    try {
      checkBindings(session, options.bindings);
      const initial = options.state instanceof Map
        ? options.state
        : new Map(Object.entries(options.state ?? {}));
      for (const [name, value] of initial) {
        if (!store.has(name)) store.set(name, session.upload(shaped(session, name, value)));
      }
      const unset = options.bindings.filter((b) => !store.has(b.input));
      if (unset.length > 0) {
        const names = unset.map((b) => `"${b.input}"`).join(", ");
        throw new RangeError(`Cannot start the training step: no initial state for ${names}`);
      }
      return new TrainingStep(
        session,
        options.bindings,
        options.lossOutput ?? "loss",
        store,
        options.store === undefined,
        large,
      );
    } catch (error) {
      if (options.store === undefined) store.dispose();
      await session.dispose();
      throw error;
    }
  }

  /** How many steps have run. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Runs one step: feeds the state and `feeds`, keeps the new state, returns the other outputs.
   *
   * @param feeds Every graph input that is not state; a number becomes a scalar of the input's
   *   dtype (for `lr`, `step`).
   * @returns The loss and the non-state outputs.
   * @throws {RangeError} If a feed is missing, unknown, or names a state input.
   */
  async run(feeds: Readonly<Record<string, HostTensor | number>>): Promise<StepResult> {
    const inputs: Record<string, DeviceTensor> = {};
    for (const { name } of this.session.inputs) {
      const held = this.store.get(name);
      if (held !== undefined) inputs[name] = held;
    }
    for (const [name, value] of Object.entries(feeds)) {
      if (this.store.has(name)) {
        throw new RangeError(`Cannot feed "${name}": it is state, held on the backend`);
      }
      const info = tensorInfo(this.session.inputs, name);
      if (!info) {
        throw new RangeError(`Cannot feed "${name}": the graph has no such input`);
      }
      const dtype = isHostDType(info.type) ? info.type : "float32";
      inputs[name] = this.session.wrap(typeof value === "number" ? scalar(value, dtype) : value);
    }
    const missing = this.session.inputs.filter((i) => !(i.name in inputs)).map((i) => i.name);
    if (missing.length > 0) {
      throw new RangeError(`Cannot run the step: missing input ${missing.map(quote).join(", ")}`);
    }
    const results = await this.session.run(inputs);
    // The store frees each replaced tensor: the old state's device memory goes right away.
    for (const { input, output } of this.bindings) this.store.set(input, results[output]!);
    if (this.collect) collectGarbage();
    const bound = new Set(this.bindings.map((b) => b.output));
    const outputs: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      if (bound.has(name)) continue;
      outputs[name] = await this.session.take(tensor);
    }
    this.#steps++;
    const lossTensor = outputs[this.lossOutput];
    return { loss: lossTensor === undefined ? NaN : Number(lossTensor.data[0]), outputs };
  }

  /** The names of the state held, parameters and moments (the whole store, when shared). */
  stateNames(): string[] {
    return this.store.names();
  }

  /**
   * Where each piece of state lives now (`gpu-buffer` on webgpu after the first step, `cpu`
   * elsewhere): proof that the state does not round-trip through the host.
   *
   * @returns The onnxruntime data location by input name.
   */
  locations(): Record<string, string> {
    return Object.fromEntries(this.store.names().map((n) => [n, this.store.get(n)!.location]));
  }

  /**
   * Copies the whole state (the whole store, when shared) to the host, for checkpoints; the
   * state stays on the backend.
   *
   * @param keep Which state to copy (default: all; a frozen teacher held beside a student is
   *   left out of the student's checkpoints).
   * @returns The state by input name.
   */
  async readState(
    keep: (name: string) => boolean = () => true,
  ): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {};
    for (const name of this.store.names().filter(keep)) {
      out[name] = await this.session.download(this.store.get(name)!);
    }
    return out;
  }

  /**
   * Replaces some or all of the state (resuming from a checkpoint).
   *
   * @param state New values by input name; dtype and shape must match the current ones.
   * @throws {RangeError} If a name is not state or a value's dtype or shape differs.
   */
  writeState(state: Readonly<Record<string, HostTensor>>): void {
    for (const [name, value] of Object.entries(state)) {
      const current = this.store.get(name);
      if (current === undefined) throw new RangeError(`Cannot set state "${name}": not state`);
      if (current.type !== value.dtype || current.dims.join() !== value.dims.join()) {
        throw new RangeError(
          `Cannot set state "${name}": got ${describe(value.dtype, value.dims)}, ` +
            `the graph holds ${describe(current.type, current.dims)}`,
        );
      }
      this.store.set(name, this.session.upload(value));
    }
  }

  /** Frees the session, and the state unless the store was shared in. */
  async dispose(): Promise<void> {
    if (this.ownsStore) this.store.dispose();
    await this.session.dispose();
  }
}

/**
 * Above this much initial state a step runs without the memory arena: its activations then go
 * back to the system after each run instead of staying reserved per graph (gpt2-small: 1.5 GB
 * of parameters and moments, GBs of activations at 8 K tokens per step).
 */
export const LARGE_STATE_BYTES = 256 * 2 ** 20;

/**
 * Frees the replaced state's host buffers now rather than whenever V8 gets to them. On the host
 * backends each step's new state comes back as fresh JavaScript buffers; the store releases the
 * old ones, but V8 does not weigh that external memory and collects it late — gpt2-small (1.1 GB
 * of parameters and moments) held 5.0 GB after 5 steps, 3.9 GB with a collection after each step
 * (a full collection of the small JS heap costs milliseconds against a step of seconds). `gc`
 * exists when Deno runs with `--v8-flags=--expose-gc`, as the `moe` tasks, the installed launcher
 * and the compiled binary do; elsewhere this does nothing.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Bytes of the state a step will hold: the shared store's and its own initial values. */
function stateBytes({ state, store }: TrainingStepOptions): number {
  let bytes = 0;
  for (const v of state instanceof Map ? state.values() : Object.values(state ?? {})) {
    bytes += v instanceof Float32Array ? v.byteLength : v.data.byteLength;
  }
  for (const name of store?.names() ?? []) {
    bytes += 4 * store!.get(name)!.dims.reduce((a, b) => a * b, 1);
  }
  return bytes;
}

/** Checks every binding against the graph. */
function checkBindings(session: Session, bindings: readonly StateBinding[]): void {
  const seen = new Set<string>();
  for (const { input, output } of bindings) {
    const where = `binding "${output}" → "${input}"`;
    if (!tensorInfo(session.inputs, input)) {
      throw new RangeError(`Invalid ${where}: the graph has no input "${input}"`);
    }
    if (!tensorInfo(session.outputs, output)) {
      throw new RangeError(`Invalid ${where}: the graph has no output "${output}"`);
    }
    if (seen.has(input) || seen.has(`>${output}`)) {
      throw new RangeError(`Invalid ${where}: the input or output is bound twice`);
    }
    seen.add(input).add(`>${output}`);
  }
}

/** An initial value as a host tensor checked against the graph input of the same name. */
function shaped(session: Session, name: string, value: InitialValue): HostTensor {
  const info = tensorInfo(session.inputs, name);
  if (!info) throw new RangeError(`Invalid initial state "${name}": the graph has no such input`);
  let tensor: HostTensor;
  if (value instanceof Float32Array) {
    if (!info.shape.every((d) => typeof d === "number")) {
      throw new RangeError(
        `Invalid initial state "${name}": bare data needs a static shape, the graph has ` +
          describe(info.type, info.shape),
      );
    }
    tensor = { dtype: "float32", dims: info.shape as number[], data: value };
  } else {
    tensor = value;
  }
  const shapeOk = info.shape.length === tensor.dims.length &&
    info.shape.every((d, i) => typeof d !== "number" || d === tensor.dims[i]) &&
    sizeOf(tensor.dims) === tensor.data.length;
  if (info.type !== tensor.dtype || !shapeOk) {
    const got = value instanceof Float32Array
      ? `${value.length} float32 values`
      : describe(tensor.dtype, tensor.dims);
    throw new RangeError(
      `Invalid initial state "${name}": got ${got}, the graph expects ${
        describe(info.type, info.shape)
      }`,
    );
  }
  return tensor;
}

function describe(dtype: string, dims: readonly (number | string)[]): string {
  return `${dtype}[${dims.join(", ")}]`;
}

function quote(name: string): string {
  return `"${name}"`;
}
