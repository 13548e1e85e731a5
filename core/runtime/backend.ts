/**
 * The one interface every execution backend implements. A backend turns ONNX `ModelProto` bytes
 * into a {@linkcode Session}; a session runs the graph on tensors that live wherever the backend
 * keeps them (native memory, WASM heap, GPU buffers) and moves them to and from the host only when
 * asked.
 *
 * @module
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { HostTensor } from "./host_tensor.ts";

/** A concrete backend. */
export type BackendName = "cpu" | "wasm" | "webgpu";

/** What `--backend` accepts: a concrete backend or `auto`. */
export type BackendChoice = BackendName | "auto";

/** All concrete backends, in the order `auto` tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ["webgpu", "cpu", "wasm"];

/** Options common to every backend. */
export interface BackendOptions {
  /** Intra-op threads on the host (cpu: ORT thread pool; wasm: WASM worker threads). */
  threads?: number;
}

/** Options of one session. */
export interface SessionOptions {
  /**
   * Outputs to keep on the device between runs (GPU buffers on webgpu); all other outputs are
   * returned as host-readable tensors. On cpu and wasm every output already lives in host memory.
   */
  deviceOutputs?: readonly string[];
  /**
   * Intra-op threads of this session (default: the backend's). Only `cpu` has a thread pool per
   * session; wasm's threads are per process and webgpu runs on the GPU, so they ignore it. A
   * graph of tiny matrix-vector products (one decoding step) runs faster on one thread than
   * with a pool that wakes for every op.
   */
  threads?: number;
  /**
   * Whether this session's idle intra-op threads spin waiting for work (cpu; default true, the
   * lowest latency for a session run back to back). `false` for a session that runs now and then
   * beside a busier one: its threads, spinning after each run, take cores from the other (a
   * 2-thread prefill session slows a 1-thread decoding step by ~1.5× on a 2-core box).
   */
  spinning?: boolean;
  /**
   * Whether the session keeps freed buffers in a memory arena for its next run (cpu; default
   * true). `false` for big training steps: the arena keeps each session's peak (activations of
   * hundreds of MB) for good, one per graph, on top of the state.
   */
  arena?: boolean;
}

/**
 * A device tensor: an onnxruntime-common `Tensor` created by the backend's own onnxruntime module.
 * Only the session (or its backend) that made it may consume it.
 */
export type DeviceTensor = Tensor;

/** Name and type of a graph input or output. */
export type ValueInfo = InferenceSession.ValueMetadata;

/** A loaded model on one backend. */
export interface Session {
  /** The backend that runs it. */
  readonly backend: Backend;
  /** Graph inputs, in order. */
  readonly inputs: readonly ValueInfo[];
  /** Graph outputs, in order. */
  readonly outputs: readonly ValueInfo[];
  /**
   * Copies a host tensor to the device once, for values used over many runs (on webgpu into a
   * GPU buffer; on cpu and wasm it wraps the host data). Free it with {@linkcode Session.release}.
   */
  upload(tensor: HostTensor): DeviceTensor;
  /** Wraps a host tensor for one run (no copy on the host; webgpu uploads it during the run). */
  wrap(tensor: HostTensor): DeviceTensor;
  /** Runs the graph once; feeds are device tensors made by this session's backend. */
  run(feeds: Readonly<Record<string, DeviceTensor>>): Promise<Record<string, DeviceTensor>>;
  /** Copies a device tensor back to the host. */
  download(tensor: DeviceTensor): Promise<HostTensor>;
  /**
   * Moves a run's output to the host and frees the device tensor: an output already in host
   * memory is handed over without a copy (gradients of GBs at GPT-2 sizes).
   */
  take(tensor: DeviceTensor): Promise<HostTensor>;
  /** Frees the device memory of a tensor this session produced or uploaded (GPU buffers). */
  release(tensor: DeviceTensor): void;
  /** Frees the session. */
  dispose(): Promise<void>;
}

/**
 * What a backend can do, declared by the backend itself: callers branch on these reasons, never
 * on the backend's name, so a new backend states its traits in one place.
 */
export interface BackendCapabilities {
  /**
   * Whether tensors live in device memory apart from the host (webgpu: GPU buffers), so outputs
   * named in {@linkcode SessionOptions.deviceOutputs} and uploaded tensors stay there between
   * runs. Decoders then keep their KV cache on the device and share one uploaded copy of the
   * parameters between their graphs. `false` where device memory is host memory (cpu, wasm):
   * the cache returns only its new rows, and small parameters are better baked into each graph
   * (cpu pre-packs constant weights; wasm would copy input parameters into its heap on every
   * run); see {@linkcode BackendCapabilities.readsHostInputsInPlace} for large ones.
   */
  readonly keepsOutputsOnDevice: boolean;
  /**
   * Whether a host input is read where it lies, without a copy (cpu: onnxruntime-node wraps the
   * typed array's memory), so graphs can share one host copy of large weights fed as inputs.
   * `false` on wasm (inputs are copied into its heap on every run) and webgpu (uploaded).
   */
  readonly readsHostInputsInPlace: boolean;
  /**
   * Whether the device is emulated by a software renderer on the CPU (webgpu on llvmpipe or
   * SwiftShader): results are right but far slower than the `cpu` backend, so opening it by name
   * warns the user.
   */
  readonly softwareRenderer: boolean;
}

/** An execution backend. */
export interface Backend {
  /** Which backend this is (for messages and logs; branch on {@linkcode Backend.capabilities}). */
  readonly name: BackendName;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities;
  /** Host threads it was opened with. */
  readonly threads: number;
  /** One line naming the implementation and device, for logs and `--json` output. */
  readonly description: string;
  /** Loads a model from its `ModelProto` bytes. */
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
}

/**
 * A backend cannot be used on this machine (no GPU adapter, native addon does not load, …). The
 * message names the backend and why; `auto` catches it and tries the next backend.
 *
 * @example
 * ```ts
 * import { BackendUnavailableError } from "./backend.ts";
 * const err = new BackendUnavailableError("webgpu", "navigator.gpu is not defined");
 * console.assert(err.message === 'Backend "webgpu" is unavailable: navigator.gpu is not defined');
 * ```
 */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
  /**
   * @param backend The backend (or `auto`) that could not be opened.
   * @param reason Why, as one sentence-case clause.
   */
  constructor(readonly backend: BackendChoice, readonly reason: string) {
    super(`Backend "${backend}" is unavailable: ${reason}`);
  }
}

/** The message of anything thrown, for error reasons. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
