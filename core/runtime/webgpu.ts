/**
 * The `webgpu` backend: onnxruntime-web's WebGPU execution provider on Deno's `navigator.gpu`.
 * Outputs named in `deviceOutputs` stay in GPU buffers, so parameters and optimizer state never
 * leave the GPU between training steps; uploads go straight into GPU buffers too.
 *
 * The WebGPU EP lives only in the `onnxruntime-web/webgpu` bundle (the bare `onnxruntime-web`
 * import resolves to the Node build, which has no WebGPU). That bundle's CPU side runs one thread:
 * its worker threads would load from a `blob:` URL, which Deno refuses inside npm packages.
 *
 * @module
 */
import type { Backend, BackendOptions, DeviceTensor } from "./backend.ts";
import { BackendUnavailableError, reasonOf } from "./backend.ts";
import { createOrtSession } from "./_ort_session.ts";
import { BYTES_PER_ELEMENT, type HostTensor } from "./host_tensor.ts";

type WebGpuModule = typeof import("onnxruntime-web/webgpu");

/** Options of the WebGPU backend. */
export interface WebGpuOptions extends BackendOptions {
  /** Refuse software adapters (llvmpipe, SwiftShader): what `auto` asks for. */
  requireHardware?: boolean;
  /** The WebGPU entry point (default `navigator.gpu`); tests pass `null` to simulate none. */
  gpu?: GPU | null;
}

let ortModule: WebGpuModule | undefined;

/**
 * Opens the WebGPU backend.
 *
 * @param options Hardware requirement and the WebGPU entry point.
 * @returns The backend; its description names the adapter.
 * @throws {BackendUnavailableError} If there is no WebGPU, no adapter, only a software adapter
 *   while `requireHardware` is set, or onnxruntime-web cannot load.
 *
 * @example
 * ```ts
 * import { openWebGpu } from "./webgpu.ts";
 * await openWebGpu({ gpu: null }).catch((e) => console.assert(e.message.includes("webgpu")));
 * ```
 */
export async function openWebGpu(options: WebGpuOptions = {}): Promise<Backend> {
  const gpu = options.gpu === undefined ? navigator.gpu : options.gpu;
  if (!gpu) throw new BackendUnavailableError("webgpu", "navigator.gpu is not defined");
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) throw new BackendUnavailableError("webgpu", "no GPU adapter was found");
  const info = adapter.info;
  const adapterName = info.description || info.vendor || "unknown adapter";
  if (options.requireHardware && info.isFallbackAdapter) {
    throw new BackendUnavailableError(
      "webgpu",
      `the only adapter is a software fallback ("${adapterName}")`,
    );
  }
  if (ortModule === undefined) {
    try {
      ortModule = await import("onnxruntime-web/webgpu");
      ortModule.env.wasm.numThreads = 1;
    } catch (error) {
      throw new BackendUnavailableError(
        "webgpu",
        `cannot load onnxruntime-web (${reasonOf(error)})`,
      );
    }
  }
  const ort = ortModule;
  const kind = info.isFallbackAdapter ? "software fallback" : "hardware";
  const backend: Backend = {
    name: "webgpu",
    capabilities: {
      keepsOutputsOnDevice: true,
      readsHostInputsInPlace: false,
      softwareRenderer: info.isFallbackAdapter,
    },
    threads: 1,
    description: `onnxruntime-web WebGPU EP on "${adapterName}" (${kind})`,
    createSession: async (model, sessionOptions = {}) => {
      const deviceOutputs = sessionOptions.deviceOutputs ?? [];
      const session = await createOrtSession(ort, backend, model, {
        sessionOptions: {
          executionProviders: ["webgpu"],
          graphOptimizationLevel: "all",
          // Shape arithmetic on int64 runs on the CPU EP by design; do not warn about it.
          logSeverityLevel: 3,
          preferredOutputLocation: Object.fromEntries(
            deviceOutputs.map((name) => [name, "gpu-buffer" as const]),
          ),
        },
      });
      // The device exists once the first WebGPU session does.
      const device = await ort.env.webgpu.device;
      if (!(device instanceof GPUDevice)) {
        throw new BackendUnavailableError(
          "webgpu",
          "onnxruntime-web did not expose its GPU device",
        );
      }
      return { ...session, upload: (tensor) => uploadToGpu(ort, device, tensor) };
    },
  };
  return backend;
}

/** Copies a host tensor into a new GPU buffer owned by the returned tensor. */
function uploadToGpu(ort: WebGpuModule, device: GPUDevice, tensor: HostTensor): DeviceTensor {
  if (tensor.dtype === "float64" || tensor.dtype === "int8") {
    // Not a WebGPU buffer type in onnxruntime; let the session upload it per run.
    return new ort.Tensor(tensor.dtype, tensor.data, tensor.dims);
  }
  const bytes = tensor.data.length * BYTES_PER_ELEMENT[tensor.dtype];
  // writeBuffer needs a multiple of 4 bytes; round to 16 like onnxruntime's own allocations.
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  const buffer = device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const padded = new Uint8Array(size);
  padded.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, bytes));
  device.queue.writeBuffer(buffer, 0, padded);
  return ort.Tensor.fromGpuBuffer(buffer, {
    dataType: tensor.dtype,
    dims: tensor.dims,
    dispose: () => buffer.destroy(),
  });
}
