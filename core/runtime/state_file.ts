/**
 * Saving and restoring a training step's state (parameters and optimizer moments) as
 * a safetensors file — the only time the state leaves the backend.
 *
 * @module
 */
import type { HostTensor } from "./host_tensor.ts";
import { loadSafetensors, saveSafetensors } from "./safetensors.ts";

/**
 * What a checkpoint saves and restores: a {@linkcode TrainingStep}, or a step whose optimizer
 * runs on the host (`HostAdamWStep`), which holds its moments itself.
 */
export interface TrainingState {
  /** Steps this session ran. */
  readonly steps: number;
  /** The names of the state, in the order it is saved. */
  stateNames(): string[];
  /** Copies the state (or the part `keep` accepts) to the host. */
  readState(keep?: (name: string) => boolean): Promise<Record<string, HostTensor>>;
  /** Replaces state by name; throws a RangeError on an unknown name or another shape. */
  writeState(state: Readonly<Record<string, HostTensor>>): void;
}

/**
 * Writes the runner's whole state to `path` (safetensors, atomic), tensors named by graph input.
 * `step` (steps this session ran) is added to the metadata unless `metadata` has one.
 *
 * @param path The file to write.
 * @param runner The training step whose state to save.
 * @param metadata Extra string metadata (config, data position, …).
 * @param keep Which state to save (default: all).
 *
 * @example
 * ```ts
 * import { loadTrainingState, saveTrainingState } from "./state_file.ts";
 * import { openCpu } from "./cpu.ts";
 * import { float32 } from "./host_tensor.ts";
 * import { sgdStepModel } from "./sample_models.ts";
 * import { TrainingStep } from "./training_step.ts";
 * const options = { bindings: [{ input: "w", output: "w_next" }], state: { w: float32([2]) } };
 * const cpu = await openCpu({ threads: 1 });
 * const a = await TrainingStep.create(cpu, sgdStepModel(1), options);
 * await a.run({ x: float32([0]), lr: 0.5 });
 * const path = await Deno.makeTempFile();
 * await saveTrainingState(path, a);
 * const b = await TrainingStep.create(cpu, sgdStepModel(1), options);
 * console.assert((await loadTrainingState(path, b)).step === "1");
 * console.assert((await b.readState()).w?.data[0] === 1);
 * await Promise.all([a.dispose(), b.dispose(), Deno.remove(path)]);
 * ```
 */
export async function saveTrainingState(
  path: string,
  runner: TrainingState,
  metadata: Readonly<Record<string, string>> = {},
  keep: (name: string) => boolean = () => true,
): Promise<void> {
  // The caller's step (a training loop's, across resumes) wins over this session's own count.
  await saveSafetensors(path, await runner.readState(keep), {
    step: String(runner.steps),
    ...metadata,
  });
}

/**
 * Loads state saved by {@linkcode saveTrainingState} into a runner of the same graph.
 *
 * @param path The safetensors file.
 * @param runner The training step to restore into.
 * @param keep Which state the file holds (default: all of the runner's).
 * @returns The file's metadata (`step` and whatever was saved with it).
 * @throws {SyntaxError} If the file is malformed.
 * @throws {RangeError} If the file lacks a state tensor, has an unknown one, or a shape differs;
 *   the message names the file.
 */
export async function loadTrainingState(
  path: string,
  runner: TrainingState,
  keep: (name: string) => boolean = () => true,
): Promise<Record<string, string>> {
  const { tensors, metadata } = await loadSafetensors(path);
  const expected = runner.stateNames().filter(keep);
  const missing = expected.filter((name) => !(name in tensors));
  const extra = Object.keys(tensors).filter((name) => !expected.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.map((n) => `"${n}"`).join(", ")}` : "",
      extra.length > 0 ? `unknown ${extra.map((n) => `"${n}"`).join(", ")}` : "",
    ].filter((p) => p !== "");
    throw new RangeError(`Cannot restore state from "${path}": ${parts.join("; ")}`);
  }
  try {
    runner.writeState(tensors);
  } catch (error) {
    throw new RangeError(`Cannot restore state from "${path}": ${(error as Error).message}`);
  }
  return metadata;
}
