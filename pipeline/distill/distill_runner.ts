/**
 * The graphs of a distillation run: one fused step that computes the teacher's signal, the
 * student's logits, `α·CE + (1−α)·KD`, the backward pass and AdamW — and a student-only
 * evaluation graph over the same state.
 *
 * Online, the teacher is part of the step graph as frozen parameters named `teacher.*`: its
 * logits never leave the backend, and it costs one forward pass per step. From a cache, the step
 * takes the teacher's top-k ids and log-probabilities of the batch's windows as inputs instead.
 * α is an input too, so the adaptive rules and the alternating schedule change it every step
 * without a new graph.
 *
 * @module
 */
import { encode, Graph, reshape, type Tensor } from "../../core/graph/mod.ts";
import {
  crossEntropy,
  distillObjective,
  type KDScale,
  type TeacherSignal,
} from "../../core/losses/mod.ts";
import {
  buildAccumulationSteps,
  type HostAdamWStep,
  loadFusedStep,
  type TrainingGraph,
} from "../../core/optim/mod.ts";
import {
  type Backend,
  type HostTensor,
  loadTrainingState,
  saveTrainingState,
  TrainingStep,
} from "../../core/runtime/mod.ts";
import {
  type Batch,
  type ModelRunner,
  type StepOutcome,
  type TrainOptions,
  writeGPTModel,
} from "../training/mod.ts";
import { DROPOUT_KEY, dropoutKey, gptForward, initGPT } from "../../models/gpt.ts";
import type { AlphaRule, LossSchedule } from "./alpha_schedule.ts";
import {
  type Alternation,
  batchClass,
  ClassAlphas,
  MICRO_BATCHES,
  runDistillationStep,
} from "./alternation.ts";
import type { TeacherCache } from "./cache.ts";
import type { Teacher } from "./teacher.ts";

/** Whether the student trains with dropout (masks keyed by seed and step, so resume is exact). */
const drops = (o: TrainOptions): boolean => (o.model.dropout ?? 0) > 0;

/** How the student learns from the teacher. */
export interface DistillSettings {
  /** `forward` = KL(p_T‖q_S) (mean-seeking); `reverse` = KL(q_S‖p_T) (mode-seeking). */
  kd: "forward" | "reverse";
  /** Softmax temperature τ of both distributions. */
  temperature: number;
  /**
   * `tau2` (default): the KD term is multiplied by τ² (Hinton et al. 2015); `none`: it is the
   * plain KL at τ (the paper's code, which uses τ = 1, where both are the same).
   */
  kdScale?: KDScale;
  alpha: AlphaRule;
  /** `combined`: α·CE + (1−α)·KD every step; `alternating`: CE alone and KD alone in turn. */
  lossSchedule: LossSchedule;
  /**
   * How `alternating` alternates (default `step`): on each class's own visits, or per
   * micro-batch inside every step (`alternation.ts`).
   */
  alternate?: Alternation;
}

/**
 * Whether a run's steps are cut into micro-batches (alternating per micro-batch).
 *
 * @example
 * ```ts
 * import { usesMicroBatches } from "./distill_runner.ts";
 * const s = { kd: "forward" as const, temperature: 1, alpha: { kind: "fixed" as const, alpha: 0.5 } };
 * console.assert(usesMicroBatches({ ...s, lossSchedule: "alternating", alternate: "micro-batch" }));
 * console.assert(!usesMicroBatches({ ...s, lossSchedule: "combined", alternate: "micro-batch" }));
 * ```
 */
export function usesMicroBatches(s: DistillSettings): boolean {
  return s.lossSchedule === "alternating" && s.alternate === "micro-batch";
}

/**
 * The rows of one micro-batch of a step whose batch has `rows` rows.
 *
 * @throws {RangeError} When the rows do not split into {@linkcode MICRO_BATCHES} equal parts.
 */
export function microBatchRows(rows: number): number {
  if (rows % MICRO_BATCHES !== 0) {
    throw new RangeError(
      `Cannot alternate per micro-batch: a batch of ${rows} rows does not split into ${MICRO_BATCHES} equal micro-batches`,
    );
  }
  return rows / MICRO_BATCHES;
}

/** Where the teacher's signal comes from. */
export type TeacherSource = { kind: "online"; teacher: Teacher } | {
  kind: "cache";
  cache: TeacherCache;
};

/** Graph-input prefix of a frozen teacher held in the same graph and store as its student. */
export const TEACHER_PREFIX = "teacher.";

/** Whether a state name is the student's (the frozen teacher is not saved in checkpoints). */
export function isStudentState(name: string): boolean {
  return !name.startsWith(TEACHER_PREFIX);
}

/**
 * The teacher's logits `[B·T, V]` inside a student's graph: its parameters become frozen graph
 * inputs `teacher.*` (no gradient, no update, one copy on the backend however many graphs share
 * the store), so its logits never leave the backend.
 */
export function teacherLogits(g: Graph, teacher: Teacher, tokens: Tensor): Tensor {
  const [batch, seqLen] = tokens.shape as [number, number];
  return gptForward(g, teacher.config.model, tokens, {
    batch,
    seqLen,
    values: teacher.values,
    prefix: TEACHER_PREFIX,
    frozen: () => true,
  });
}

/**
 * A distillation step's objective in `g`, shared by the GPT student and the MoE: inputs `tokens`
 * and `targets` `[B, T]` int64 and the scalar `alpha`; returns `α·CE + (1 − α)·KD` and outputs its
 * terms `ce` and `kd` (logged, and fed back to the α rule).
 *
 * @param geometry Rows and tokens per row.
 * @param student The student's logits `[B·T, V]` of `tokens`.
 * @param teacher The teacher's signal on the same tokens.
 */
export function distillationLoss(
  g: Graph,
  geometry: { batch: number; seqLen: number },
  settings: DistillSettings,
  student: (tokens: Tensor) => Tensor,
  teacher: (tokens: Tensor) => TeacherSignal,
): Tensor {
  const { batch: B, seqLen: T } = geometry;
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = reshape(g.input("targets", "int64", [B, T]), [B * T]); // [B, T] → [B·T]
  const alpha = g.input("alpha", "float32", []);
  const parts = distillObjective(student(tokens), targets, teacher(tokens), {
    kd: settings.kd,
    temperature: settings.temperature,
    ...(settings.kdScale ? { scale: settings.kdScale } : {}),
    alpha,
  });
  g.output(parts.ce, "ce");
  g.output(parts.kd, "kd");
  return parts.loss;
}

/**
 * Loads the graphs of micro-batch alternation: the first (accumulate) owns the parameters and
 * AdamW state, the other (apply) shares its store.
 */
async function loadSteps(backend: Backend, graphs: TrainingGraph[]): Promise<TrainingStep[]> {
  const train = [
    await TrainingStep.create(backend, graphs[0]!.model, {
      bindings: graphs[0]!.bindings,
      state: graphs[0]!.initialState,
    }),
  ];
  for (const tg of graphs.slice(1)) {
    train.push(
      await TrainingStep.create(backend, tg.model, {
        bindings: tg.bindings,
        state: tg.initialState,
        store: train[0]!.store,
        lossOutput: "grad_norm",
      }),
    );
  }
  return train;
}

/** The evaluation graph: the student's mean cross-entropy on `tokens`, `targets` (no dropout). */
function studentEvalGraph(o: TrainOptions, values: ReadonlyMap<string, Float32Array>): Uint8Array {
  const { batch: B, seqLen: T, seed } = o;
  const g = new Graph("distill.eval");
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = g.input("targets", "int64", [B, T]);
  const logits = gptForward(g, o.model, tokens, { batch: B, seqLen: T, seed, values });
  g.output(crossEntropy(logits, reshape(targets, [B * T])), "loss");
  return encode(g);
}

/** A student distilled from a teacher, loaded on a backend. */
export class DistillRunner implements ModelRunner {
  private constructor(
    private readonly o: TrainOptions,
    private readonly source: TeacherSource,
    private readonly settings: DistillSettings,
    /** The fused step, or the accumulate and apply graphs of micro-batch alternation. */
    private readonly train: (TrainingStep | HostAdamWStep)[],
    private readonly evaluator: TrainingStep,
    private readonly plans: ClassAlphas,
  ) {}

  /**
   * Builds and loads the step and evaluation graphs; the student starts from GPT-2
   * initialization with `o.seed`.
   *
   * @param backend Where to run.
   * @param o The run's options (the student's model, batch, sequence length, AdamW).
   * @param source The teacher (online) or its cache.
   * @param settings KD direction, temperature, α rule and loss schedule.
   * @throws {RangeError} If `o.accumulate` is not 1, or micro-batch alternation cannot split
   *   the batch in equal micro-batches.
   */
  static async create(
    backend: Backend,
    o: TrainOptions,
    source: TeacherSource,
    settings: DistillSettings,
  ): Promise<DistillRunner> {
    if (o.accumulate !== 1) {
      throw new RangeError("Distillation runs one batch per step (accumulate 1)");
    }
    const { batch: B, seqLen: T, seed } = o;
    const micro = usesMicroBatches(settings);
    const rows = micro ? microBatchRows(B) : B;
    // One initialization for every graph (the evaluation graph reads the step's store).
    const values = initGPT(o.model, seed);
    const loss = (g: Graph) => {
      const student = (tokens: Tensor) => {
        // The student drops like a teacher trained with `--dropout`; the teacher never does.
        const dropoutKey = drops(o) ? { dropoutKey: g.input(DROPOUT_KEY, "int64", []) } : {};
        const opts = { batch: rows, seqLen: T, seed, values, ...dropoutKey };
        return gptForward(g, o.model, tokens, opts);
      };
      const teacher = (tokens: Tensor): TeacherSignal =>
        source.kind === "online"
          ? { kind: "logits", logits: teacherLogits(g, source.teacher, tokens) }
          : {
            kind: "topk",
            ids: g.input("top_ids", "int64", [rows * T, source.cache.manifest.topK]),
            logProbs: g.input("top_logp", "float32", [rows * T, source.cache.manifest.topK]),
          };
      return distillationLoss(g, { batch: rows, seqLen: T }, settings, student, teacher);
    };
    const train = micro
      ? await loadSteps(
        backend,
        Object.values(buildAccumulationSteps("distill", loss, o.adamw, MICRO_BATCHES)),
      )
      : [await loadFusedStep(backend, "distill.train", loss, o.adamw)];
    const evaluator = await TrainingStep.create(backend, studentEvalGraph(o, values), {
      bindings: [],
      store: train[0]!.store,
    });
    const plans = new ClassAlphas(settings.alpha, o.lr.steps);
    return new DistillRunner(o, source, settings, train, evaluator, plans);
  }

  /**
   * One step: α from the batch's class controller and the schedule, the teacher's signal, the
   * update (one fused run, or one run per micro-batch and the update).
   */
  async step(batch: Batch, lr: number, step: number): Promise<StepOutcome> {
    const { seqLen: T, seed } = this.o;
    const cls = batchClass(batch.classes);
    const alphas = this.plans.next(
      cls,
      this.settings.lossSchedule,
      this.settings.alternate ?? "step",
    );
    const rows = batch.classes.length / alphas.length;
    const int64 = (data: BigInt64Array, i: number): HostTensor => ({
      dtype: "int64",
      dims: [rows, T],
      data: data.subarray(i * rows * T, (i + 1) * rows * T),
    });
    const feeds = async (i: number, alpha: number) => {
      const f: Record<string, HostTensor | number> = {
        tokens: int64(batch.tokens, i),
        targets: int64(batch.targets, i),
        alpha,
        ...(drops(this.o) ? { [DROPOUT_KEY]: dropoutKey(seed, step, i) } : {}),
      };
      if (this.source.kind === "cache") {
        const k = this.source.cache.manifest.topK;
        const [from, to] = [i * rows, (i + 1) * rows];
        const top = await this.source.cache.read(
          batch.classes.slice(from, to),
          batch.windows.slice(from, to),
        );
        f.top_ids = { dtype: "int64", dims: [rows * T, k], data: top.ids };
        f.top_logp = { dtype: "float32", dims: [rows * T, k], data: top.logProbs };
      }
      return f;
    };
    const outcome = await runDistillationStep(this.train, alphas, feeds, lr, step);
    this.plans.observe(cls, outcome.ce, outcome.kd);
    const { loss, gradNorm, ...parts } = outcome;
    return { loss, gradNorm, parts };
  }

  /** The student's mean cross-entropy on one validation batch. */
  async evalLoss(_cls: string, tokens: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const { batch: B, seqLen: T } = this.o;
    const t = (data: BigInt64Array): HostTensor => ({ dtype: "int64", dims: [B, T], data });
    return (await this.evaluator.run({ tokens: t(tokens), targets: t(targets) })).loss;
  }

  /** The student's parameters and moments (the frozen teacher is not state worth saving). */
  readState(): Promise<Record<string, HostTensor>> {
    return this.train[0]!.readState(isStudentState);
  }

  save(path: string, metadata: Record<string, string>): Promise<void> {
    return saveTrainingState(path, this.train[0]!, metadata, isStudentState);
  }

  load(path: string): Promise<Record<string, string>> {
    return loadTrainingState(path, this.train[0]!, isStudentState);
  }

  writeModel(dir: string, state: Readonly<Record<string, HostTensor>>): Promise<void> {
    return writeGPTModel(dir, this.o.model, state);
  }

  /** Each class's α history and visit count, so a resumed run continues with the same α. */
  position(): unknown {
    return this.plans.state();
  }

  restorePosition(saved: unknown): void {
    this.plans.restore(saved);
  }

  async dispose(): Promise<void> {
    await this.evaluator.dispose();
    // The store's owner (the first graph) last.
    for (const t of this.train.slice(1)) await t.dispose();
    await this.train[0]!.dispose();
  }
}
