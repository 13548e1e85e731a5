/**
 * The `wasm` backend: onnxruntime-web's multithreaded WebAssembly CPU provider.
 *
 * Subtle: Deno resolves the bare `onnxruntime-web` import with the `node` export condition, i.e. to
 * `ort.node.min.mjs`, whose Emscripten glue starts its threads with `node:worker_threads` — which
 * Deno provides. The browser bundles (`onnxruntime-web/wasm`) would instead import their worker
 * script from a `blob:` URL, which Deno refuses inside npm packages, so they cannot run threads here.
 *
 * Known problem (Deno 2.9.6, onnxruntime-web 1.30.0): with more than one thread, a run of a large
 * training graph (the GPT `bench` config) deadlocks in about a third of processes, at the first
 * run; the same script and model did not hang in 5 runs under Node 20, and we have not seen it
 * with MatMul, small graphs, the forward pass alone, or one thread. It needs a busy machine (none
 * in 13 quiet runs, 4 in 7 beside two busy processes); the hung process spins on its main thread
 * and runs no pthread worker. Neither a pause for the event loop after the first session nor a
 * trivial warm-up session before the first real one prevented it. Until that is resolved, long
 * jobs on `wasm` should use `--threads 1`; `auto` reaches `wasm` only when the native `cpu`
 * backend is missing.
 *
 * @module
 */
import type { Backend, BackendOptions } from "./backend.ts";
import { BackendUnavailableError, reasonOf } from "./backend.ts";
import { createOrtSession } from "./_ort_session.ts";
import { defaultThreads } from "./threads.ts";

type WebModule = typeof import("onnxruntime-web");

/** The module and the thread count it was initialised with (the WASM heap is once per process). */
let loaded: { ort: WebModule; threads: number } | undefined;

/**
 * Opens the WASM backend. The WASM module starts once per process, so every `openWasm` of a
 * process must ask for the same thread count.
 *
 * @param options Thread count (default: all logical cores).
 * @returns The backend.
 * @throws {BackendUnavailableError} If onnxruntime-web cannot load, WebAssembly threads are
 *   unavailable, or the module already runs with another thread count.
 *
 * @example
 * ```ts
 * import { openWasm } from "./wasm.ts";
 * const wasm = await openWasm({ threads: 2 });
 * console.assert(wasm.name === "wasm" && wasm.threads === 2);
 * ```
 */
export async function openWasm(options: BackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? defaultThreads();
  if (threads > 1 && typeof SharedArrayBuffer === "undefined") {
    throw new BackendUnavailableError("wasm", "SharedArrayBuffer (WebAssembly threads) is missing");
  }
  if (loaded === undefined) {
    try {
      const ort = await import("onnxruntime-web");
      ort.env.wasm.numThreads = threads;
      loaded = { ort, threads };
    } catch (error) {
      throw new BackendUnavailableError("wasm", `cannot load onnxruntime-web (${reasonOf(error)})`);
    }
  } else if (loaded.threads !== threads) {
    throw new BackendUnavailableError(
      "wasm",
      `the WASM module of this process already runs ${loaded.threads} threads, not ${threads}`,
    );
  }
  const { ort } = loaded;
  const backend: Backend = {
    name: "wasm",
    capabilities: {
      keepsOutputsOnDevice: false,
      readsHostInputsInPlace: false,
      softwareRenderer: false,
    },
    threads,
    description: `onnxruntime-web WASM (SIMD), ${threads} thread${threads === 1 ? "" : "s"}`,
    createSession: (model) =>
      createOrtSession(ort, backend, model, {
        sessionOptions: {
          executionProviders: ["wasm"],
          graphOptimizationLevel: "all",
          logSeverityLevel: 3,
        },
      }),
  };
  return backend;
}
