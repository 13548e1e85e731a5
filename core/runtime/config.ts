/**
 * Which backend to run on and with how many threads, parsed once from text (a config file, a
 * command line) into {@linkcode RuntimeConfig}.
 *
 * @module
 */
import { InvalidRequest } from "../job/mod.ts";
import { BACKEND_NAMES, type BackendChoice } from "./backend.ts";
import { defaultThreads } from "./threads.ts";

/** Which backend to run on and with how many host threads. */
export interface RuntimeConfig {
  /** A backend name or `auto` (hardware WebGPU, else cpu, else wasm). */
  backend: BackendChoice;
  /** Host threads for cpu/wasm; webgpu runs its host side on one thread. */
  threads: number;
}

/** The defaults: `auto` on every logical core. */
export function defaultRuntimeConfig(): RuntimeConfig {
  return { backend: "auto", threads: defaultThreads() };
}

/**
 * Parses a `--backend` value.
 *
 * @param value The flag value.
 * @returns The backend choice.
 * @throws {InvalidRequest} If the value is not `auto` or a backend name (option `backend`); lists
 *   what is allowed.
 *
 * @example
 * ```ts
 * import { parseBackend } from "./config.ts";
 * console.assert(parseBackend("cpu") === "cpu");
 * ```
 */
export function parseBackend(value: string): BackendChoice {
  const choices: readonly string[] = ["auto", ...BACKEND_NAMES];
  const normalized = value.trim().toLowerCase();
  if (normalized === "auto" || BACKEND_NAMES.some((name) => name === normalized)) {
    return normalized as BackendChoice;
  }
  throw new InvalidRequest(
    (s) => `Invalid ${s.option("backend")} "${value}": expected one of ${choices.join(", ")}`,
    { option: "backend" },
  );
}

/**
 * Parses a `--threads` value: an integer from 1 to 256.
 *
 * @param value The flag value.
 * @returns The thread count.
 * @throws {InvalidRequest} If the value is not an integer in [1, 256] (option `threads`).
 *
 * @example
 * ```ts
 * import { parseThreads } from "./config.ts";
 * console.assert(parseThreads("2") === 2);
 * ```
 */
export function parseThreads(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1 || n > 256) {
    throw new InvalidRequest(
      (s) => `Invalid ${s.option("threads")} "${value}": expected an integer from 1 to 256`,
      { option: "threads" },
    );
  }
  return n;
}

/**
 * Builds the runtime config from parsed flags over the defaults (and a config file's values).
 *
 * @param flags Raw flag values as commander gives them (strings, or already parsed).
 * @param base The values to start from (default {@linkcode defaultRuntimeConfig}).
 * @returns The config.
 * @throws {InvalidRequest} If a value is malformed.
 *
 * @example
 * ```ts
 * import { runtimeConfig } from "./config.ts";
 * const config = runtimeConfig({ backend: "wasm", threads: "2" });
 * console.assert(config.backend === "wasm" && config.threads === 2);
 * ```
 */
export function runtimeConfig(
  flags: { backend?: string | undefined; threads?: string | number | undefined },
  base: RuntimeConfig = defaultRuntimeConfig(),
): RuntimeConfig {
  return {
    backend: flags.backend === undefined ? base.backend : parseBackend(flags.backend),
    threads: flags.threads === undefined ? base.threads : parseThreads(String(flags.threads)),
  };
}
