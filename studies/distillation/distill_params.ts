/**
 * Parameters of the distillation experiments (`alpha`, `loss-schedule`): a scale preset, then
 * explicit overrides, checked against the token shards — the teacher (a given checkpoint, or
 * how to train one), the student, the classes it learns, its budget and the loss settings.
 *
 * @module
 */
import { resolve } from "node:path";
import { InvalidRequest } from "../../core/job/mod.ts";
import type { AlphaRule, DistillSettings } from "../../pipeline/distill/mod.ts";
import type { KDScale } from "../../core/losses/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Scale } from "../experiment.ts";
import {
  experimentData,
  experimentModel,
  type ModelChoice,
  type Overrides,
  withOverrides,
} from "../scale_preset.ts";

/** The teacher trained by the experiment when no `--teacher` is given. */
export interface TeacherTraining {
  modelName: string;
  model: GPTConfig;
  /** Optimizer steps on balanced batches of every class (the student's batch geometry). */
  steps: number;
  lr: number;
  /** Every class of the shards (a teacher knows all languages). */
  classes: string[];
}

/** Everything that defines a distillation experiment (saved in `experiment.json`). */
export interface DistillParams {
  scale: Scale;
  /** Token shard directory (absolute). */
  data: string;
  /** Its tokenizer (absolute). */
  tokenizerPath: string;
  /** The given teacher checkpoint (absolute), or null to train one per seed. */
  teacher: string | null;
  /** How the teacher is trained when none is given (null when one is given). */
  teacherTraining: TeacherTraining | null;
  /** The classes the student learns: all (the paper distils all four), or one (`--lang`). */
  classes: string[];
  modelName: string;
  /** The student. */
  model: GPTConfig;
  batch: number;
  seqLen: number;
  /** Optimizer steps of every student (equal budget): a multiple of `evals`. */
  steps: number;
  /** Peak learning rate (5 % warm-up, cosine decay to a tenth). */
  lr: number;
  /** Softmax temperature τ of the KD term. */
  temperature: number;
  kd: DistillSettings["kd"];
  /** Whether the KD term is scaled by τ² (absent in studies run before it existed: `tau2`). */
  kdScale?: KDScale;
  /** α of the experiments that fix it (loss-schedule: the combined run's weight of CE). */
  alpha: AlphaRule;
  /** Evaluations over a student's run (the last at its end); a checkpoint at each. */
  evals: number;
  /** Validation rows per class per evaluation. */
  evalRows: number;
}

/** What a scale preset fixes. */
export interface DistillPreset {
  /** The student. */
  student: ModelChoice;
  /** The teacher trained when none is given, and its budget. */
  teacher: ModelChoice & { steps: number; lr: number };
  batch: number;
  seqLen: number;
  steps: number;
  lr: number;
  temperature: number;
  kd: DistillSettings["kd"];
  kdScale: KDScale;
  alpha: AlphaRule;
  evals: number;
  evalRows: number;
}

/**
 * The presets, all with the paper's KD setting (forward KL at τ = 1, no τ² factor, α = ½), the
 * students learning every class. `tiny`: seconds on the fixtures (students of the `tiny` config,
 * 100 steps).
 * `small`: the CPU study — 2-layer, d 128 students for 160 steps of 16 × 128 tokens (≈ 0.33 M
 * tokens each; halved from 320 so that 3 seeds of every study fit a few hours of 2 cores), the `bench` teacher (4 layers, d 256) trained 1 000 steps when none is given.
 * `paper`: the paper's sizes (`GPT_CONFIGS` `paper-*`), 6-layer, d 768 students of a GPT-2
 * medium teacher at context 1024, for a GPU machine (`deno task bench paper_sizes` shows a step
 * of each runs on the CPU).
 */
export const DISTILL_PRESETS: Readonly<Record<Scale, DistillPreset>> = {
  tiny: {
    student: { config: "tiny" },
    teacher: { config: "tiny", layers: 3, dModel: 96, steps: 200, lr: 3e-3 },
    batch: 8,
    seqLen: 64,
    steps: 100,
    lr: 3e-3,
    temperature: 1,
    kd: "forward",
    kdScale: "none",
    alpha: { kind: "fixed", alpha: 0.5 },
    evals: 4,
    evalRows: 16,
  },
  small: {
    student: { config: "bench", layers: 2, dModel: 128, heads: 4, contextLength: 128 },
    teacher: { config: "bench", steps: 1000, lr: 1e-3 },
    batch: 16,
    seqLen: 128,
    steps: 160,
    lr: 2e-3,
    temperature: 1,
    kd: "forward",
    kdScale: "none",
    alpha: { kind: "fixed", alpha: 0.5 },
    evals: 8,
    evalRows: 64,
  },
  paper: {
    student: { config: "paper-student-6l" },
    teacher: { config: "paper-teacher", steps: 50_000, lr: 6e-4 },
    batch: 32,
    seqLen: 1024,
    steps: 10_000,
    lr: 6e-4,
    temperature: 1,
    kd: "forward",
    kdScale: "none",
    alpha: { kind: "fixed", alpha: 0.5 },
    evals: 20,
    evalRows: 256,
  },
};

/** Flags that override a preset (undefined: keep the preset's). */
export type DistillOverrides =
  & Overrides<Omit<DistillPreset, "student" | "teacher">>
  & {
    /** Student model overrides. */
    student?: Overrides<ModelChoice>;
    teacherSteps?: number | undefined;
    /** A teacher checkpoint: no teacher is trained. */
    teacher?: string | undefined;
    /** A class of the shards, or `all` (the default). */
    lang?: string | undefined;
    tokenizer?: string | undefined;
  };

/**
 * Resolves the parameters of a distillation experiment.
 *
 * @param scale The preset.
 * @param data The token shard directory.
 * @param o Explicit flags, which win over the preset.
 * @returns The parameters.
 * @throws {InvalidRequest} If `lang` names no class of the shards, the steps are not a multiple of
 *   the evaluations, the batch does not split into two micro-batches of whole rows (the
 *   loss-schedule study alternates per micro-batch too), the sequence is longer than a context,
 *   or the teacher is not a directory.
 *
 * @example
 * ```ts
 * import { DISTILL_PRESETS } from "./distill_params.ts";
 * console.assert(DISTILL_PRESETS.small.steps % DISTILL_PRESETS.small.evals === 0);
 * ```
 */
export async function distillParams(
  scale: Scale,
  data: string,
  o: DistillOverrides = {},
): Promise<DistillParams> {
  const { student, teacherSteps, teacher, lang, tokenizer, ...flags } = o;
  const preset = DISTILL_PRESETS[scale];
  const p = withOverrides(preset, flags);
  const shards = await experimentData(data, tokenizer);
  const { classes: all, tokenizer: { vocabSize } } = shards.manifest;
  const classes = lang === undefined || lang === "all" ? all : [lang];
  if (!all.includes(classes[0]!)) {
    throw new InvalidRequest(
      (s) => `Invalid ${s.option("lang")} "${lang}": "${data}" has ${all.join(", ")} (or all)`,
      { option: "lang" },
    );
  }
  const s = await experimentModel(
    withOverrides(preset.student, student ?? {}),
    vocabSize,
    p.seqLen,
  );
  if (p.batch % 2 !== 0) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${
          s.option("batch")
        } ${p.batch}: it must be even (alternating per micro-batch cuts it in two halves)`,
      { option: "batch" },
    );
  }
  if (p.steps % p.evals !== 0) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${s.option("steps")} ${p.steps}: it must be a multiple of ${
          s.option("evals")
        } ${p.evals} so that the run ends on an evaluation`,
      { option: "steps" },
    );
  }
  let teacherTraining: TeacherTraining | null = null;
  if (teacher !== undefined) {
    if (!(await Deno.stat(teacher).then((st) => st.isDirectory, () => false))) {
      throw new InvalidRequest(
        (s) => `Invalid ${s.option("teacher")} "${teacher}": no such directory`,
        { option: "teacher" },
      );
    }
  } else {
    const t = await experimentModel(preset.teacher, vocabSize, p.seqLen);
    teacherTraining = {
      modelName: t.name,
      model: t.model,
      steps: teacherSteps ?? preset.teacher.steps,
      lr: preset.teacher.lr,
      classes: all,
    };
  }
  return {
    scale,
    data: shards.data,
    tokenizerPath: shards.tokenizerPath,
    teacher: teacher === undefined ? null : resolve(teacher),
    teacherTraining,
    classes,
    modelName: s.name,
    model: s.model,
    batch: p.batch,
    seqLen: p.seqLen,
    steps: p.steps,
    lr: p.lr,
    temperature: p.temperature,
    kd: p.kd,
    kdScale: p.kdScale,
    alpha: p.alpha,
    evals: p.evals,
    evalRows: p.evalRows,
  };
}
