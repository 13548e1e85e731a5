/**
 * The GPT-2 graphs of a training run loaded on a backend: the fused step (or the two graphs of
 * gradient accumulation) and a forward-only evaluation graph, all over one state store, so
 * evaluation reads the very parameters being trained without copying them.
 *
 * @module
 */
import { join } from "node:path";
import { encode, Graph } from "../../core/graph/mod.ts";
import {
  type AdamWConfig,
  buildAccumulationSteps,
  type HostAdamWStep,
  loadFusedStep,
} from "../../core/optim/mod.ts";
import {
  type Backend,
  type HostTensor,
  loadTrainingState,
  saveTrainingState,
  TrainingStep,
} from "../../core/runtime/mod.ts";
import {
  buildGPTInference,
  DROPOUT_KEY,
  dropoutKey,
  type GPTConfig,
  gptLoss,
  initGPT,
} from "../../models/gpt.ts";
import type { Batch } from "./batches.ts";
import type { ModelRunner, StepOutcome } from "./runner.ts";

/** The fused step (AdamW in the graph or on the host), or the two graphs of accumulation. */
type Steps = [fused: TrainingStep | HostAdamWStep] | [
  accumulate: TrainingStep,
  apply: TrainingStep,
];

/** Geometry and optimizer of a run's graphs. */
export interface GPTRunnerOptions {
  /** Rows per micro-batch (per session run). */
  batch: number;
  seqLen: number;
  /** Micro-batches per optimizer step (1 = the fused step). */
  accumulate: number;
  seed: number;
  adamw: AdamWConfig;
}

/** The loaded graphs of a GPT-2 training run. */
export class GPTRunner implements ModelRunner {
  private constructor(
    private readonly cfg: GPTConfig,
    private readonly steps: Steps,
    private readonly evaluator: TrainingStep,
    private readonly options: GPTRunnerOptions,
  ) {}

  /**
   * Builds and loads the graphs; parameters start from GPT-2 initialization with `seed`.
   *
   * @param backend Where to run.
   * @param cfg The model.
   * @param options Micro-batch rows, sequence length, accumulation, seed, AdamW settings.
   * @returns The runner.
   */
  static async create(
    backend: Backend,
    cfg: GPTConfig,
    options: GPTRunnerOptions,
  ): Promise<GPTRunner> {
    // One initialization for every graph: GPT-2 medium's takes ~10 s, and the evaluation graph
    // only declares the parameters (it reads the training step's store).
    const { batch, seqLen, seed } = options;
    const build = { batch, seqLen, seed, values: initGPT(cfg, seed) };
    let steps: Steps;
    if (options.accumulate > 1) {
      const loss = gptLoss(cfg, build, true);
      const { accumulate, apply } = buildAccumulationSteps(
        "gpt",
        loss,
        options.adamw,
        options.accumulate,
      );
      const first = await TrainingStep.create(backend, accumulate.model, {
        bindings: accumulate.bindings,
        state: accumulate.initialState,
      });
      steps = [
        first,
        await TrainingStep.create(backend, apply.model, {
          bindings: apply.bindings,
          state: apply.initialState,
          store: first.store,
          lossOutput: "grad_norm",
        }),
      ];
    } else {
      steps = [await loadFusedStep(backend, "gpt.train", gptLoss(cfg, build, true), options.adamw)];
    }
    const g = new Graph("gpt.eval");
    g.output(gptLoss(cfg, build, false)(g), "loss");
    const evaluator = await TrainingStep.create(backend, encode(g), {
      bindings: [],
      store: steps[0]!.store,
    });
    return new GPTRunner(cfg, steps, evaluator, options);
  }

  /**
   * Runs one optimizer step over `accumulate` micro-batches of `batch` rows. With dropout, each
   * micro-batch's masks are keyed by (seed, step, micro-batch), so a resumed run repeats them.
   *
   * @param batch `[accumulate·B, T]` inputs and targets, row-major.
   * @param lr Learning rate of this step.
   * @param step Optimizer step, 1-based (AdamW bias correction).
   */
  async step({ tokens, targets }: Batch, lr: number, step: number): Promise<StepOutcome> {
    const { batch, seqLen, accumulate, seed } = this.options;
    const n = batch * seqLen;
    const int64 = (data: BigInt64Array, i: number): HostTensor => ({
      dtype: "int64",
      dims: [batch, seqLen],
      data: data.subarray(i * n, (i + 1) * n),
    });
    const micro = (i: number) => ({
      tokens: int64(tokens, i),
      targets: int64(targets, i),
      ...((this.cfg.dropout ?? 0) > 0 ? { [DROPOUT_KEY]: dropoutKey(seed, step, i) } : {}),
    });
    const steps = this.steps;
    if (steps.length === 1) {
      const r = await steps[0].run({ ...micro(0), lr, step });
      return { loss: r.loss, gradNorm: Number(r.outputs.grad_norm?.data[0] ?? NaN) };
    }
    let sum = 0;
    for (let i = 0; i < accumulate; i++) sum += (await steps[0].run(micro(i))).loss;
    const applied = await steps[1].run({ lr, step });
    return { loss: sum / accumulate, gradNorm: applied.loss };
  }

  /** Mean cross-entropy of one `[B, T]` batch (targets −1 are not counted). */
  async evalLoss(_cls: string, tokens: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const { batch, seqLen } = this.options;
    const t = (data: BigInt64Array): HostTensor => ({
      dtype: "int64",
      dims: [batch, seqLen],
      data,
    });
    return (await this.evaluator.run({ tokens: t(tokens), targets: t(targets) })).loss;
  }

  /** Parameters, optimizer moments and accumulators, copied to the host. */
  readState(): Promise<Record<string, HostTensor>> {
    return this.steps[0]!.readState();
  }

  /** Saves the whole state as safetensors with `metadata`. */
  save(path: string, metadata: Record<string, string>): Promise<void> {
    return saveTrainingState(path, this.steps[0]!, metadata);
  }

  /** Restores state saved by {@linkcode GPTRunner.save}; returns its metadata. */
  load(path: string): Promise<Record<string, string>> {
    return loadTrainingState(path, this.steps[0]!);
  }

  /** Writes `model.onnx` (see {@linkcode writeGPTModel}). */
  writeModel(dir: string, state: Readonly<Record<string, HostTensor>>): Promise<void> {
    return writeGPTModel(dir, this.cfg, state);
  }

  /** Frees the sessions and the state. */
  async dispose(): Promise<void> {
    await this.evaluator.dispose();
    for (const s of this.steps.slice(1)) await s.dispose();
    await this.steps[0]!.dispose();
  }
}

/**
 * Writes `dir/model.onnx`: the inference graph (`tokens [1, ctx]` → `logits [1, ctx, V]`) with
 * the parameters of `state` baked in, loadable by any ONNX Runtime.
 */
export async function writeGPTModel(
  dir: string,
  cfg: GPTConfig,
  state: Readonly<Record<string, HostTensor>>,
): Promise<void> {
  const values = new Map<string, Float32Array>();
  for (const [k, t] of Object.entries(state)) if (t.dtype === "float32") values.set(k, t.data);
  const model = buildGPTInference(cfg, { batch: 1, seqLen: cfg.contextLength, values });
  await Deno.writeFile(join(dir, "model.onnx"), model);
}
