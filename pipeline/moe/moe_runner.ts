/**
 * The graphs of a JEET or MoE-CE training run on a backend: one fused training step per class
 * and one evaluation graph per class, all over ONE state store. Class `c`'s step binds `wte`,
 * `c`'s stack and (MoE-CE) the common stack with their AdamW moments, so a step on a `c` batch
 * updates exactly those; the other stacks sit untouched in the store.
 *
 * AdamW's `step` input is the global optimizer step, not a per-expert count. The shared `wte`
 * (and the common stack) are updated at every step, so the global step is their exact bias
 * correction; an expert updated every K-th step then gets a correction that is too small in its
 * first few dozen updates (update scale ≈ 0.56 at its first with K = 4, → 1 after ~20): a mild
 * extra warm-up. A per-expert count would instead over-correct the shared parts (×1.8 at K = 4).
 * PyTorch keeps one count per parameter; one `step` input per graph cannot.
 *
 * @module
 */
import { join } from "node:path";
import { encode, Graph } from "../../core/graph/mod.ts";
import {
  type AdamWConfig,
  buildAccumulationSteps,
  buildTrainingStep,
  type TrainingGraph,
} from "../../core/optim/mod.ts";
import {
  ClassAlphas,
  distillationLoss,
  type DistillSettings,
  isStudentState,
  MICRO_BATCHES,
  microBatchRows,
  runDistillationStep,
  type Teacher,
  teacherLogits,
  usesMicroBatches,
} from "../distill/mod.ts";
import {
  type Backend,
  type HostTensor,
  loadTrainingState,
  saveTrainingState,
  TrainingStep,
} from "../../core/runtime/mod.ts";
import type { Batch } from "../training/batches.ts";
import type { ModelRunner, StepOutcome } from "../training/runner.ts";
import {
  buildMoEInference,
  initMoE,
  moeClassLogits,
  moeClassLoss,
  type MoEConfig,
} from "../../models/moe.ts";

/** Geometry and optimizer of a MoE run's graphs. */
export interface MoERunnerOptions {
  /** Rows per batch (all of one class). */
  batch: number;
  seqLen: number;
  seed: number;
  adamw: AdamWConfig;
  /** Start from these MoE parameters instead of fresh initialization. */
  values?: ReadonlyMap<string, Float32Array>;
  /**
   * Distil from a teacher: its forward pass joins every class's step graph as frozen
   * parameters `teacher.*` (one copy in the shared store), the loss becomes
   * `α·CE + (1−α)·KD` on the MoE's output, and α, CE and KD are logged each step. Every class
   * has its own α controller and alternates on its own visits (or per micro-batch), so
   * `alternating` gives every class both losses (`pipeline/distill/alternation.ts`).
   */
  distill?: { teacher: Teacher; settings: DistillSettings; steps: number };
}

/** One class's training graphs: the fused step, or accumulate + apply (micro-batches). */
type ClassStep = TrainingStep[];

/** A JEET or MoE-CE model's graphs on a backend (a {@linkcode ModelRunner}). */
export class MoERunner implements ModelRunner {
  private constructor(
    readonly config: MoEConfig,
    private readonly steps: Map<string, ClassStep>,
    private readonly evaluators: Map<string, TrainingStep>,
    private readonly options: MoERunnerOptions,
    private readonly plans: ClassAlphas | null,
  ) {}

  /**
   * Builds and loads one training and one evaluation graph per class over a shared store.
   *
   * @param backend Where to run.
   * @param cfg The MoE.
   * @param options Rows, sequence length, seed, AdamW settings, optional starting values.
   * @returns The runner.
   * @throws {RangeError} If the config is invalid.
   */
  static async create(
    backend: Backend,
    cfg: MoEConfig,
    options: MoERunnerOptions,
  ): Promise<MoERunner> {
    const values = options.values ?? initMoE(cfg, options.seed);
    const geometry = { batch: options.batch, seqLen: options.seqLen };
    const micro = options.distill !== undefined && usesMicroBatches(options.distill.settings);
    const trainGeometry = micro ? { ...geometry, batch: microBatchRows(geometry.batch) } : geometry;
    const steps = new Map<string, ClassStep>();
    const evaluators = new Map<string, TrainingStep>();
    let store: TrainingStep["store"] | undefined;
    try {
      for (const cls of cfg.classes) {
        const loss = (g: Graph) =>
          options.distill
            ? distilledLoss(g, cfg, cls, options.distill, trainGeometry, values)
            : moeClassLoss(g, cfg, cls, geometry, values);
        const graphs: TrainingGraph[] = micro
          ? Object.values(buildAccumulationSteps(`moe.${cls}`, loss, options.adamw, MICRO_BATCHES))
          : [buildTrainingStep(`moe.${cls}`, loss, options.adamw)];
        const classSteps: ClassStep = [];
        steps.set(cls, classSteps);
        for (const [i, tg] of graphs.entries()) {
          const step = await TrainingStep.create(backend, tg.model, {
            bindings: tg.bindings,
            state: tg.initialState,
            ...(store ? { store } : {}),
            ...(i > 0 ? { lossOutput: "grad_norm" } : {}),
          });
          store ??= step.store;
          classSteps.push(step);
        }
      }
      for (const cls of cfg.classes) {
        const g = new Graph(`moe.eval.${cls}`);
        g.output(moeClassLoss(g, cfg, cls, geometry, values), "loss");
        evaluators.set(
          cls,
          await TrainingStep.create(backend, encode(g), { bindings: [], store: store! }),
        );
      }
    } catch (error) {
      await disposeAll(steps, evaluators, cfg.classes[0]!);
      throw error;
    }
    // Each class is visited every K-th step: its α rule's window follows its own visits.
    const plans = options.distill
      ? new ClassAlphas(
        options.distill.settings.alpha,
        Math.max(1, Math.ceil(options.distill.steps / cfg.classes.length)),
      )
      : null;
    return new MoERunner(cfg, steps, evaluators, options, plans);
  }

  /**
   * One optimizer step on a batch whose rows are all of one class.
   *
   * @throws {RangeError} If the batch mixes classes or its class has no expert.
   */
  async step(batch: Batch, lr: number, step: number): Promise<StepOutcome> {
    const cls = batch.classes[0] ?? "";
    if (batch.classes.some((c) => c !== cls)) {
      throw new RangeError(
        `Cannot train the MoE on a batch of classes ${[...new Set(batch.classes)].join(", ")}: ` +
          "each batch must hold one class",
      );
    }
    const graphs = this.#graph(this.steps, cls);
    const [first] = graphs;
    const distill = this.options.distill;
    if (!this.plans || !distill) {
      const r = await first!.run({
        tokens: this.#int64(batch.tokens),
        targets: this.#int64(batch.targets),
        lr,
        step,
      });
      return { loss: r.loss, gradNorm: Number(r.outputs.grad_norm?.data[0] ?? NaN) };
    }
    const { lossSchedule, alternate } = distill.settings;
    const alphas = this.plans.next(cls, lossSchedule, alternate ?? "step");
    const n = batch.tokens.length / alphas.length; // tokens per micro-batch
    const part = (data: BigInt64Array, i: number): HostTensor => ({
      dtype: "int64",
      dims: [this.options.batch / alphas.length, this.options.seqLen],
      data: data.subarray(i * n, (i + 1) * n),
    });
    const feeds = (i: number, alpha: number) =>
      Promise.resolve({
        tokens: part(batch.tokens, i),
        targets: part(batch.targets, i),
        alpha,
      });
    const outcome = await runDistillationStep(graphs, alphas, feeds, lr, step);
    this.plans.observe(cls, outcome.ce, outcome.kd);
    const { loss, gradNorm, ...parts } = outcome;
    return { loss, gradNorm, parts };
  }

  /** Each class's α history and visit count (distillation only), so a resumed run is exact. */
  position(): unknown {
    return this.plans?.state();
  }

  restorePosition(saved: unknown): void {
    this.plans?.restore(saved);
  }

  /** Mean cross-entropy of the MoE (routed to `cls`) on one `[B, T]` batch. */
  async evalLoss(cls: string, tokens: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const r = await this.#graph(this.evaluators, cls).run({
      tokens: this.#int64(tokens),
      targets: this.#int64(targets),
    });
    return r.loss;
  }

  /** The whole store (every stack, `wte`, moments; not a frozen teacher), copied to the host. */
  readState(): Promise<Record<string, HostTensor>> {
    return this.#first().readState(isStudentState);
  }

  /** The MoE parameters (no optimizer moments), by MoE name. */
  async readParameters(): Promise<Map<string, Float32Array>> {
    return parametersOf(await this.readState());
  }

  /** Saves the whole state (the LM head, `wte` or the untied `lm_head`, with it) as safetensors. */
  save(path: string, metadata: Record<string, string>): Promise<void> {
    return saveTrainingState(path, this.#first(), metadata, isStudentState);
  }

  /**
   * Restores state saved by {@linkcode MoERunner.save}.
   *
   * @throws {RangeError} If the file lacks a tensor of the store or has unknown ones.
   */
  load(path: string): Promise<Record<string, string>> {
    return loadTrainingState(path, this.#first(), isStudentState);
  }

  /**
   * Writes `model.onnx`: the whole MoE with a `weights` input over the classes (see
   * `buildMoEInference`), runnable by any ONNX Runtime.
   */
  async writeModel(dir: string, state: Readonly<Record<string, HostTensor>>): Promise<void> {
    await Deno.writeFile(
      join(dir, "model.onnx"),
      buildMoEInference(this.config, parametersOf(state)),
    );
  }

  /** Frees the sessions and the state. */
  async dispose(): Promise<void> {
    await disposeAll(this.steps, this.evaluators, this.config.classes[0]!);
  }

  #first(): TrainingStep {
    return this.steps.get(this.config.classes[0]!)![0]!;
  }

  #graph<S>(of: Map<string, S>, cls: string): S {
    const step = of.get(cls);
    if (!step) {
      throw new RangeError(
        `The MoE has no expert for class "${cls}" (it has ${this.config.classes.join(", ")})`,
      );
    }
    return step;
  }

  #int64(data: BigInt64Array): HostTensor {
    return { dtype: "int64", dims: [this.options.batch, this.options.seqLen], data };
  }
}

/** Float32 tensors of a state that are not optimizer moments or accumulators. */
export function parametersOf(
  state: Readonly<Record<string, HostTensor>>,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(state)) {
    if (t.dtype !== "float32" || /\.(adam_m|adam_v|grad_acc)$/.test(name)) continue;
    out.set(name, t.data);
  }
  return out;
}

/** Disposes evaluators, then steps, the store's owner (`first`'s first graph) last. */
async function disposeAll(
  steps: Map<string, ClassStep>,
  evaluators: Map<string, TrainingStep>,
  first: string,
): Promise<void> {
  for (const e of evaluators.values()) await e.dispose();
  for (const [cls, s] of steps) {
    for (const [i, t] of s.entries()) if (cls !== first || i > 0) await t.dispose();
  }
  await steps.get(first)?.[0]?.dispose();
  steps.clear();
  evaluators.clear();
}

/** `α·CE + (1−α)·KD` of the MoE routed to `cls` against the frozen teacher in the same graph. */
function distilledLoss(
  g: Graph,
  cfg: MoEConfig,
  cls: string,
  { teacher, settings }: NonNullable<MoERunnerOptions["distill"]>,
  geometry: { batch: number; seqLen: number },
  values: ReadonlyMap<string, Float32Array>,
) {
  return distillationLoss(
    g,
    geometry,
    settings,
    (tokens) => moeClassLogits(g, cfg, cls, tokens, values), // [B·T, V]
    (tokens) => ({ kind: "logits", logits: teacherLogits(g, teacher, tokens) }),
  );
}
