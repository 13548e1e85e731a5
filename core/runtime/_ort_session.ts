/**
 * The {@linkcode Session} shared by all three backends: each backend hands in its own
 * onnxruntime module (onnxruntime-node, or one of onnxruntime-web's bundles). The modules bundle
 * separate copies of onnxruntime-common, so a tensor is always made with the module of the session
 * that consumes it — never with another module's `Tensor` class.
 *
 * @module
 */
import type * as OrtCommon from "onnxruntime-common";
import type { InferenceSession } from "onnxruntime-common";
import type { Backend, DeviceTensor, Session } from "./backend.ts";
import { type HostTensor, isHostDType } from "./host_tensor.ts";

/** The part of an onnxruntime module the runtime uses. */
export type OrtModule = Pick<typeof OrtCommon, "InferenceSession" | "Tensor">;

/** Backend-specific pieces of a session. */
export interface OrtSessionParts {
  /** onnxruntime session options (execution provider, threads, output locations). */
  sessionOptions: InferenceSession.SessionOptions;
  /** Replaces the default upload (wrap host data in a CPU tensor), e.g. to fill a GPU buffer. */
  upload?: (tensor: HostTensor) => DeviceTensor;
}

/**
 * Loads `model` with `ort` and wraps it as a {@linkcode Session}.
 *
 * @param ort The backend's onnxruntime module.
 * @param backend The backend the session belongs to.
 * @param model `ModelProto` bytes.
 * @param parts Session options and upload override.
 * @returns The session.
 * @throws {Error} If onnxruntime rejects the model; the message names the backend.
 */
export async function createOrtSession(
  ort: OrtModule,
  backend: Backend,
  model: Uint8Array,
  parts: OrtSessionParts,
): Promise<Session> {
  let inner: InferenceSession;
  try {
    inner = await ort.InferenceSession.create(model, parts.sessionOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot load the model on backend "${backend.name}": ${message}`);
  }
  const wrap = (tensor: HostTensor) => wrapHost(ort, tensor);
  return {
    backend,
    inputs: inner.inputMetadata,
    outputs: inner.outputMetadata,
    upload: parts.upload ?? wrap,
    wrap,
    run: async (feeds) => {
      try {
        return await inner.run(feeds);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`Cannot run the model on backend "${backend.name}": ${message}`);
      }
    },
    download: (tensor) => toHost(tensor),
    take: async (tensor) => {
      const host = tensor.location === "cpu" ? ownedHost(tensor) : await toHost(tensor);
      tensor.dispose();
      return host;
    },
    release: (tensor) => tensor.dispose(),
    dispose: () => inner.release(),
  };
}

/**
 * Wraps host data in a CPU tensor of `ort` (no copy: onnxruntime reads the typed array in place).
 *
 * @param ort The onnxruntime module whose `Tensor` class to use.
 * @param tensor The host tensor.
 * @returns A CPU tensor sharing `tensor.data`.
 */
export function wrapHost(ort: OrtModule, tensor: HostTensor): DeviceTensor {
  return new ort.Tensor(tensor.dtype, tensor.data, tensor.dims);
}

/** Copies a tensor of any location to a fresh host tensor. */
async function toHost(tensor: DeviceTensor): Promise<HostTensor> {
  const dtype = tensor.type;
  if (!isHostDType(dtype)) {
    throw new TypeError(`Cannot read a tensor of type "${dtype}" back to the host`);
  }
  const data = await tensor.getData();
  const dims = [...tensor.dims];
  // getData() on a CPU tensor returns the tensor's own array; copy so the caller owns the result.
  return { dtype, dims, data: data.slice() } as HostTensor;
}

/** A CPU tensor's own array as a host tensor (the tensor is freed next: nobody else holds it). */
function ownedHost(tensor: DeviceTensor): HostTensor {
  const dtype = tensor.type;
  if (!isHostDType(dtype)) {
    throw new TypeError(`Cannot read a tensor of type "${dtype}" back to the host`);
  }
  return { dtype, dims: [...tensor.dims], data: tensor.data } as HostTensor;
}

/** Input/output metadata of a graph value, narrowed to tensors. */
export function tensorInfo(
  values: readonly InferenceSession.ValueMetadata[],
  name: string,
): InferenceSession.TensorValueMetadata | undefined {
  const info = values.find((v) => v.name === name);
  return info?.isTensor ? info : undefined;
}
