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
import { encode, Graph, reshape, type Tensor } from "../graph/mod.ts";
import { crossEntropy, distillObjective, type TeacherSignal } from "../losses/mod.ts";
import { buildTrainingStep } from "../optim/mod.ts";
import {
  type Backend,
  type HostTensor,
  loadTrainingState,
  saveTrainingState,
  TrainingStep,
} from "../runtime/mod.ts";
import {
  type Batch,
  type ModelRunner,
  type StepOutcome,
  type TrainOptions,
  writeGPTModel,
} from "../training/mod.ts";
import { DROPOUT_KEY, dropoutKey, gptForward } from "../../models/gpt.ts";
import { AlphaController, type AlphaRule, type LossSchedule, scheduledAlpha } from "./alpha.ts";
import type { TeacherCache } from "./cache.ts";
import type { Teacher } from "./teacher.ts";

/** Whether the student trains with dropout (masks keyed by seed and step, so resume is exact). */
const drops = (o: TrainOptions): boolean => (o.model.dropout ?? 0) > 0;

/** How the student learns from the teacher. */
export interface DistillSettings {
  /** `forward` = KL(p_T‖q_S) (mean-seeking); `reverse` = KL(q_S‖p_T) (mode-seeking). */
  kd: "forward" | "reverse";
  /** Softmax temperature τ of both distributions (the KD term is scaled by τ²). */
  temperature: number;
  alpha: AlphaRule;
  /** `combined`: α·CE + (1−α)·KD every step; `alternating`: CE on odd steps, KD on even ones. */
  lossSchedule: LossSchedule;
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
    alpha,
  });
  g.output(parts.ce, "ce");
  g.output(parts.kd, "kd");
  return parts.loss;
}

/** A student distilled from a teacher, loaded on a backend. */
export class DistillRunner implements ModelRunner {
  private constructor(
    private readonly o: TrainOptions,
    private readonly source: TeacherSource,
    private readonly settings: DistillSettings,
    private readonly train: TrainingStep,
    private readonly evaluator: TrainingStep,
    private readonly controller: AlphaController,
  ) {}

  /**
   * Builds and loads the step and evaluation graphs; the student starts from GPT-2
   * initialization with `o.seed`.
   *
   * @param backend Where to run.
   * @param o The run's options (the student's model, batch, sequence length, AdamW).
   * @param source The teacher (online) or its cache.
   * @param settings KD direction, temperature, α rule and loss schedule.
   */
  static async create(
    backend: Backend,
    o: TrainOptions,
    source: TeacherSource,
    settings: DistillSettings,
  ): Promise<DistillRunner> {
    if (o.accumulate !== 1) {
      throw new RangeError("Distillation runs one micro-batch per step (accumulate 1)");
    }
    const { batch: B, seqLen: T, seed } = o;
    const graph = buildTrainingStep("distill.train", (g) => {
      const student = (tokens: Tensor) => {
        // The student drops like a teacher trained with `--dropout`; the teacher never does.
        const dropoutKey = drops(o) ? { dropoutKey: g.input(DROPOUT_KEY, "int64", []) } : {};
        return gptForward(g, o.model, tokens, { batch: B, seqLen: T, seed, ...dropoutKey });
      };
      const teacher = (tokens: Tensor): TeacherSignal =>
        source.kind === "online"
          ? { kind: "logits", logits: teacherLogits(g, source.teacher, tokens) }
          : {
            kind: "topk",
            ids: g.input("top_ids", "int64", [B * T, source.cache.manifest.topK]),
            logProbs: g.input("top_logp", "float32", [B * T, source.cache.manifest.topK]),
          };
      return distillationLoss(g, o, settings, student, teacher);
    }, o.adamw);
    const train = await TrainingStep.create(backend, graph.model, {
      bindings: graph.bindings,
      state: graph.initialState,
    });
    const g = new Graph("distill.eval");
    const tokens = g.input("tokens", "int64", [B, T]);
    const targets = g.input("targets", "int64", [B, T]);
    const logits = gptForward(g, o.model, tokens, { batch: B, seqLen: T, seed });
    g.output(crossEntropy(logits, reshape(targets, [B * T])), "loss");
    const evaluator = await TrainingStep.create(backend, encode(g), {
      bindings: [],
      store: train.store,
    });
    const controller = new AlphaController(settings.alpha, o.lr.steps);
    return new DistillRunner(o, source, settings, train, evaluator, controller);
  }

  /** One step: α from the rule and the schedule, the teacher's signal, the update. */
  async step(batch: Batch, lr: number, step: number): Promise<StepOutcome> {
    const { batch: B, seqLen: T } = this.o;
    const alpha = scheduledAlpha(this.settings.lossSchedule, step, this.controller.alpha(step));
    const int64 = (data: BigInt64Array): HostTensor => ({ dtype: "int64", dims: [B, T], data });
    const feeds: Record<string, HostTensor | number> = {
      tokens: int64(batch.tokens),
      targets: int64(batch.targets),
      alpha,
      lr,
      step,
      ...(drops(this.o) ? { [DROPOUT_KEY]: dropoutKey(this.o.seed, step) } : {}),
    };
    if (this.source.kind === "cache") {
      const k = this.source.cache.manifest.topK;
      const top = await this.source.cache.read(batch.classes, batch.windows);
      feeds.top_ids = { dtype: "int64", dims: [B * T, k], data: top.ids };
      feeds.top_logp = { dtype: "float32", dims: [B * T, k], data: top.logProbs };
    }
    const r = await this.train.run(feeds);
    const ce = Number(r.outputs.ce!.data[0]), kd = Number(r.outputs.kd!.data[0]);
    this.controller.observe(ce, kd);
    return {
      loss: r.loss,
      gradNorm: Number(r.outputs.grad_norm?.data[0] ?? NaN),
      parts: { alpha, ce, kd },
    };
  }

  /** The student's mean cross-entropy on one validation batch. */
  async evalLoss(_cls: string, tokens: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const { batch: B, seqLen: T } = this.o;
    const t = (data: BigInt64Array): HostTensor => ({ dtype: "int64", dims: [B, T], data });
    return (await this.evaluator.run({ tokens: t(tokens), targets: t(targets) })).loss;
  }

  /** The student's parameters and moments (the frozen teacher is not state worth saving). */
  readState(): Promise<Record<string, HostTensor>> {
    return this.train.readState(isStudentState);
  }

  save(path: string, metadata: Record<string, string>): Promise<void> {
    return saveTrainingState(path, this.train, metadata, isStudentState);
  }

  load(path: string): Promise<Record<string, string>> {
    return loadTrainingState(path, this.train, isStudentState);
  }

  writeModel(dir: string, state: Readonly<Record<string, HostTensor>>): Promise<void> {
    return writeGPTModel(dir, this.o.model, state);
  }

  /** The α rule's loss history, so a resumed run continues with the same α. */
  position(): unknown {
    return this.controller.state();
  }

  restorePosition(saved: unknown): void {
    this.controller.restore(saved as ReturnType<AlphaController["state"]>);
  }

  async dispose(): Promise<void> {
    await this.evaluator.dispose();
    await this.train.dispose();
  }
}
