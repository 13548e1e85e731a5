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
import { encode, Graph } from "../graph/mod.ts";
import { type AdamWConfig, buildTrainingStep } from "../optim/mod.ts";
import {
  AlphaController,
  type AlphaState,
  distillationLoss,
  type DistillSettings,
  isStudentState,
  scheduledAlpha,
  type Teacher,
  teacherLogits,
} from "../distill/mod.ts";
import {
  type Backend,
  type HostTensor,
  loadTrainingState,
  saveTrainingState,
  TrainingStep,
} from "../runtime/mod.ts";
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
   * `α·CE + (1−α)·KD` on the MoE's output, and α, CE and KD are logged each step.
   */
  distill?: { teacher: Teacher; settings: DistillSettings; steps: number };
}

/** A JEET or MoE-CE model's graphs on a backend (a {@linkcode ModelRunner}). */
export class MoERunner implements ModelRunner {
  private constructor(
    readonly config: MoEConfig,
    private readonly steps: Map<string, TrainingStep>,
    private readonly evaluators: Map<string, TrainingStep>,
    private readonly options: MoERunnerOptions,
    private readonly alpha: AlphaController | null,
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
    const steps = new Map<string, TrainingStep>();
    const evaluators = new Map<string, TrainingStep>();
    let store: TrainingStep["store"] | undefined;
    try {
      for (const cls of cfg.classes) {
        const tg = buildTrainingStep(
          `moe.${cls}`,
          (g) =>
            options.distill
              ? distilledLoss(g, cfg, cls, options, values)
              : moeClassLoss(g, cfg, cls, geometry, values),
          options.adamw,
        );
        const step = await TrainingStep.create(backend, tg.model, {
          bindings: tg.bindings,
          state: tg.initialState,
          ...(store ? { store } : {}),
        });
        store ??= step.store;
        steps.set(cls, step);
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
    const alpha = options.distill
      ? new AlphaController(options.distill.settings.alpha, options.distill.steps)
      : null;
    return new MoERunner(cfg, steps, evaluators, options, alpha);
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
    const feeds: Record<string, HostTensor | number> = {
      tokens: this.#int64(batch.tokens),
      targets: this.#int64(batch.targets),
      lr,
      step,
    };
    const schedule = this.options.distill?.settings.lossSchedule;
    if (this.alpha && schedule) {
      feeds.alpha = scheduledAlpha(schedule, step, this.alpha.alpha(step));
    }
    const r = await this.#graph(this.steps, cls).run(feeds);
    const gradNorm = Number(r.outputs.grad_norm?.data[0] ?? NaN);
    if (!this.alpha) return { loss: r.loss, gradNorm };
    const ce = Number(r.outputs.ce!.data[0]), kd = Number(r.outputs.kd!.data[0]);
    this.alpha.observe(ce, kd);
    return { loss: r.loss, gradNorm, parts: { alpha: feeds.alpha as number, ce, kd } };
  }

  /** The α rule's loss history (distillation only), so a resumed run keeps the same α. */
  position(): unknown {
    return this.alpha?.state();
  }

  restorePosition(saved: unknown): void {
    this.alpha?.restore(saved as AlphaState);
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

  /** Saves the whole state (the LM head is `wte`: it is saved with it) as safetensors. */
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
    return this.steps.get(this.config.classes[0]!)!;
  }

  #graph(of: Map<string, TrainingStep>, cls: string): TrainingStep {
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

/** Disposes evaluators, then steps, the store's owner (`first`'s step) last. */
async function disposeAll(
  steps: Map<string, TrainingStep>,
  evaluators: Map<string, TrainingStep>,
  first: string,
): Promise<void> {
  for (const e of evaluators.values()) await e.dispose();
  for (const [cls, s] of steps) if (cls !== first) await s.dispose();
  await steps.get(first)?.dispose();
  steps.clear();
  evaluators.clear();
}

/** `α·CE + (1−α)·KD` of the MoE routed to `cls` against the frozen teacher in the same graph. */
function distilledLoss(
  g: Graph,
  cfg: MoEConfig,
  cls: string,
  o: MoERunnerOptions,
  values: ReadonlyMap<string, Float32Array>,
) {
  const { teacher, settings } = o.distill!;
  return distillationLoss(
    g,
    o,
    settings,
    (tokens) => moeClassLogits(g, cfg, cls, tokens, values), // [B·T, V]
    (tokens) => ({ kind: "logits", logits: teacherLogits(g, teacher, tokens) }),
  );
}
