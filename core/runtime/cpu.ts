/**
 * The `cpu` backend: onnxruntime-node's native CPU execution provider, loaded by Deno as a
 * Node-API addon (the addon ships inside the npm package; its post-install download of GPU
 * providers is not needed). About 2× the WASM backend on the development machine.
 *
 * @module
 */
import type { Backend, BackendOptions } from "./backend.ts";
import { BackendUnavailableError, reasonOf } from "./backend.ts";
import { createOrtSession, type OrtModule } from "./_ort_session.ts";
import { defaultThreads } from "./threads.ts";

/** onnxruntime session config: idle intra-op threads sleep instead of spinning. */
const NO_SPINNING = { session: { intra_op: { allow_spinning: "0" } } };

/**
 * Opens the native CPU backend.
 *
 * @param options Thread count (default: all logical cores).
 * @returns The backend.
 * @throws {BackendUnavailableError} If the native addon cannot be loaded.
 *
 * @example
 * ```ts
 * import { openCpu } from "./cpu.ts";
 * const cpu = await openCpu({ threads: 1 });
 * console.assert(cpu.name === "cpu" && cpu.threads === 1);
 * console.assert(!cpu.capabilities.keepsOutputsOnDevice);
 * ```
 */
export async function openCpu(options: BackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? defaultThreads();
  let ort: OrtModule;
  try {
    ort = await import("onnxruntime-node");
  } catch (error) {
    throw new BackendUnavailableError(
      "cpu",
      `cannot load the onnxruntime-node native addon (${reasonOf(error)})`,
    );
  }
  const backend: Backend = {
    name: "cpu",
    capabilities: {
      keepsOutputsOnDevice: false,
      readsHostInputsInPlace: true,
      softwareRenderer: false,
    },
    threads,
    description: `onnxruntime-node CPU EP, ${threads} thread${threads === 1 ? "" : "s"}`,
    createSession: (model, options) =>
      createOrtSession(ort, backend, model, {
        sessionOptions: {
          executionProviders: ["cpu"],
          intraOpNumThreads: options?.threads ?? threads,
          // One step is one chain of dependent ops; parallelism lives inside each op.
          interOpNumThreads: 1,
          executionMode: "sequential",
          graphOptimizationLevel: "all",
          logSeverityLevel: 3, // errors only: no per-session notes on stderr
          enableCpuMemArena: options?.arena ?? true,
          ...(options?.spinning === false ? { extra: NO_SPINNING } : {}),
        },
      }),
  };
  return backend;
}
