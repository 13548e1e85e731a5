/**
 * Opening a backend by name, and `auto`: a hardware WebGPU adapter, else native CPU, else WASM.
 *
 * @module
 */
import {
  type Backend,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
  BackendUnavailableError,
  reasonOf,
} from "./backend.ts";
import { openCpu } from "./cpu.ts";
import { openWasm } from "./wasm.ts";
import { openWebGpu } from "./webgpu.ts";

/**
 * How each backend is opened; `auto` says whether `auto` is asking (WebGPU then refuses software
 * adapters). Tests replace entries to simulate unavailable backends.
 */
export type BackendOpeners = Readonly<
  Record<BackendName, (options: BackendOptions, auto: boolean) => Promise<Backend>>
>;

/** The real openers. */
export const DEFAULT_OPENERS: BackendOpeners = {
  webgpu: (options, auto) => openWebGpu({ ...options, requireHardware: auto }),
  cpu: (options) => openCpu(options),
  wasm: (options) => openWasm(options),
};

/** Why `auto` skipped each backend, in order; empty when `auto` was not used. */
export type Skipped = readonly { backend: BackendName; reason: string }[];

/**
 * Opens a backend. `auto` tries webgpu on a non-fallback adapter, then cpu, then wasm, and
 * records why it skipped each.
 *
 * @param choice A backend name or `auto`.
 * @param options Thread count.
 * @param openers How to open each backend (tests only).
 * @returns The backend and, for `auto`, the reasons it skipped the earlier ones.
 * @throws {BackendUnavailableError} If the chosen backend (for `auto`: every backend) is
 *   unavailable; the message names each backend and why.
 *
 * @example
 * ```ts
 * import { openBackend } from "./open.ts";
 * const { backend, skipped } = await openBackend("auto", { threads: 1 });
 * console.assert(backend.name !== "webgpu" || skipped.length === 0);
 * ```
 */
export async function openBackend(
  choice: BackendChoice,
  options: BackendOptions = {},
  openers: BackendOpeners = DEFAULT_OPENERS,
): Promise<{ backend: Backend; skipped: Skipped }> {
  if (choice !== "auto") return { backend: await openers[choice](options, false), skipped: [] };
  const skipped: { backend: BackendName; reason: string }[] = [];
  for (const name of ["webgpu", "cpu", "wasm"] as const) {
    try {
      return { backend: await openers[name](options, true), skipped };
    } catch (error) {
      const reason = error instanceof BackendUnavailableError ? error.reason : reasonOf(error);
      skipped.push({ backend: name, reason });
    }
  }
  throw new BackendUnavailableError(
    "auto",
    `no backend can run here (${skipped.map((s) => `${s.backend}: ${s.reason}`).join("; ")})`,
  );
}
