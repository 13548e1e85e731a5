/**
 * The runtime of the training engine: one {@linkcode Backend} interface over onnxruntime with
 * three implementations — `webgpu` (onnxruntime-web WebGPU EP), `cpu` (onnxruntime-node native
 * CPU EP) and `wasm` (onnxruntime-web multithreaded WASM) — plus `auto` selection, the
 * {@linkcode TrainingStep} runner that keeps parameters and optimizer state on the backend
 * between steps, safetensors state files for checkpoints, and the `--backend`/`--threads` config.
 *
 * @example
 * ```ts
 * import { float32, openBackend, sgdStepModel, TrainingStep } from "./mod.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * const step = await TrainingStep.create(backend, sgdStepModel(1), {
 *   bindings: [{ input: "w", output: "w_next" }],
 *   state: { w: float32([4]) },
 * });
 * for (let i = 0; i < 3; i++) await step.run({ x: float32([0]), lr: 0.5 });
 * console.assert((await step.readState()).w?.data[0] === 0.5);
 * await step.dispose();
 * ```
 *
 * @module
 */
export * from "./backend.ts";
export * from "./host_tensor.ts";
export * from "./cpu.ts";
export * from "./wasm.ts";
export * from "./webgpu.ts";
export * from "./open.ts";
export * from "./config.ts";
export * from "./threads.ts";
export * from "./state_store.ts";
export * from "./training_step.ts";
export * from "./safetensors.ts";
export * from "./state_file.ts";
export * from "./sample_models.ts";
