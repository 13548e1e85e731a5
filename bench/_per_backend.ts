/**
 * Benchmarks that measure each backend in a child process of its own — so its peak RSS is its
 * own and backends do not disturb each other — and the options the training benchmarks share.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BackendName } from "../core/runtime/mod.ts";

/** Options of the training benchmarks (`train`, `distill`). */
export interface TrainingBenchOptions {
  backends: BackendName[];
  threads: number;
  steps: number;
  batch: number;
}

/** Parses `--backends --threads --steps --batch` with the benchmark's defaults. */
export function parseTrainingBenchOptions(
  args: string[],
  defaults: { backends: string; steps: number },
): TrainingBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      backends: { type: "string", default: defaults.backends },
      threads: { type: "string", default: "2" },
      steps: { type: "string", default: String(defaults.steps) },
      batch: { type: "string", default: "16" },
    },
  });
  return {
    backends: values.backends.split(",") as BackendName[],
    threads: Number(values.threads),
    steps: Number(values.steps),
    batch: Number(values.batch),
  };
}

/**
 * Runs `module` (a benchmark file ending in {@linkcode serveChild}) for `backend` in a child
 * process and returns what it measured.
 *
 * @throws {Error} If the child fails; the message has its last output line.
 */
export async function runInChild<T>(
  module: string,
  backend: BackendName,
  args: string[],
): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(module).pathname,
      "--child",
      backend,
      ...args,
    ],
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) throw new Error(`Benchmark of "${backend}" failed: ${line}`);
  return JSON.parse(line) as T;
}

/** The child side of {@linkcode runInChild}: measures the backend it was given, prints JSON. */
export async function serveChild<T>(
  measure: (backend: BackendName, args: string[]) => Promise<T>,
): Promise<void> {
  if (Deno.args[0] !== "--child") return;
  const backend = Deno.args[1] as BackendName;
  console.log(JSON.stringify(await measure(backend, Deno.args.slice(2))));
}
