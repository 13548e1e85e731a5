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

/** An opened backend and what a user should be told about the choice. */
export interface OpenedBackend {
  backend: Backend;
  skipped: Skipped;
  /**
   * One sentence for the user, or null: why `auto` did not take an earlier backend
   * (`auto: webgpu: the only adapter is a software fallback ("llvmpipe"); using cpu`), or that an
   * explicit `webgpu` runs on a software adapter.
   */
  notice: string | null;
}

/** A warning for a backend on a software renderer (WebGPU on llvmpipe): it works, but far slower than `cpu`. */
function softwareNotice(backend: Backend): string | null {
  if (!backend.capabilities.softwareRenderer) return null;
  return `warning: ${backend.description}: a software renderer runs far slower than the cpu backend (use it to check correctness, not for speed)`;
}

/**
 * Opens a backend. `auto` tries webgpu on a non-fallback adapter, then cpu, then wasm, and
 * records why it skipped each.
 *
 * @param choice A backend name or `auto`.
 * @param options Thread count.
 * @param openers How to open each backend (tests only).
 * @returns The backend, for `auto` the reasons it skipped the earlier ones, and a notice for the
 *   user (see {@linkcode OpenedBackend}).
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
): Promise<OpenedBackend> {
  if (choice !== "auto") {
    const backend = await openers[choice](options, false);
    return { backend, skipped: [], notice: softwareNotice(backend) };
  }
  const skipped: { backend: BackendName; reason: string }[] = [];
  for (const name of ["webgpu", "cpu", "wasm"] as const) {
    try {
      const backend = await openers[name](options, true);
      const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join("; ");
      return { backend, skipped, notice: why === "" ? null : `auto: ${why}; using ${name}` };
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
