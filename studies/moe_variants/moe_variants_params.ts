/**
 * Parameters of the MoE-variants study: a scale preset, then explicit overrides, checked against
 * the token shards (classes, vocabulary, tokenizer), the router (its classes) and the teacher.
 *
 * @module
 */
import { resolve } from "node:path";
import { type Describe, InvalidRequest, type Spelling } from "../../core/job/mod.ts";
import { type DistillSettings, parseAlpha } from "../../pipeline/distill/mod.ts";
import { Router } from "../../core/routing/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Scale } from "../experiment.ts";
import {
  experimentData,
  experimentModel,
  type ModelChoice,
  type Overrides,
  withOverrides,
} from "../scale_preset.ts";

/** The teacher of the study: given (`--teacher`) or trained as the `teacher` sub-run. */
export interface MoEVariantsTeacher {
  /** A `moe train` run or checkpoint directory (absolute), or null to train one. */
  given: string | null;
  /** What is trained when none is given (balanced batches, the students' rows). */
  modelName: string;
  model: GPTConfig;
  steps: number;
  lr: number;
}

/** Everything that defines a MoE-variants study (saved in `experiment.json`). */
export interface MoEVariantsParams {
  scale: Scale;
  /** Token shard directory (absolute). */
  data: string;
  /** Its tokenizer (absolute). */
  tokenizerPath: string;
  /** The classes: one expert each, in the router's order. */
  classes: string[];
  /** The router model file (absolute), trained by `moe router train` on these classes. */
  router: string;
  teacher: MoEVariantsTeacher;
  /** Every student: a PLE expert, the common expert, each JEET / MoE-CE stack. */
  modelName: string;
  model: GPTConfig;
  /** Rows per step (a multiple of the class count: the common expert's batches are balanced). */
  batch: number;
  seqLen: number;
  /** The equal budget: optimizer steps of `batch` rows per class, for every variant. */
  stepsPerClass: number;
  /** Peak learning rate of the students (5 % warm-up, cosine decay to a tenth). */
  lr: number;
  /** KD loss of every student (PLE experts, common expert, JEET, MoE-CE). */
  distill: DistillSettings;
  /** Validation rows per class: during training and in the final evaluation. */
  evalRows: number;
  /** Evaluations (and checkpoints) per training run. */
  evalsPerRun: number;
}

/** What a scale preset fixes. */
export interface MoEVariantsPreset extends ModelChoice {
  teacherConfig: string;
  teacherLayers?: number;
  teacherDModel?: number;
  teacherHeads?: number;
  teacherContextLength?: number;
  teacherSteps: number;
  teacherLr: number;
  batch: number;
  seqLen: number;
  stepsPerClass: number;
  lr: number;
  evalRows: number;
  evalsPerRun: number;
}

/**
 * The presets. `tiny`: the test-suite size, seconds on the fixtures. `small`: students of
 * 2 layers, d 128, 4 heads, ctx 128, 150 steps of 8 × 128 tokens per class (≈ 0.6 M tokens per
 * variant; halved from 300 to fit 3 seeds in a few hours of 2 cores), distilled online from a `bench` teacher (4 layers, d 256) — give the study's teacher
 * with `--teacher`, else one is trained for 1000 steps first. `paper`: the paper's sizes
 * (`GPT_CONFIGS` `paper-*`), experts of 3 layers, d 768, 6 heads, of a GPT-2 medium teacher at
 * context 1024, for a GPU machine.
 */
export const MOE_VARIANTS_PRESETS: Readonly<Record<Scale, MoEVariantsPreset>> = {
  tiny: {
    config: "tiny",
    teacherConfig: "tiny",
    teacherSteps: 160,
    teacherLr: 3e-3,
    batch: 8,
    seqLen: 64,
    stepsPerClass: 40,
    lr: 3e-3,
    evalRows: 16,
    evalsPerRun: 2,
  },
  small: {
    config: "tiny",
    layers: 2,
    dModel: 128,
    heads: 4,
    contextLength: 128,
    teacherConfig: "bench",
    teacherSteps: 1000,
    teacherLr: 1e-3,
    batch: 8,
    seqLen: 128,
    stepsPerClass: 150,
    lr: 2e-3,
    evalRows: 64,
    evalsPerRun: 2,
  },
  paper: {
    config: "paper-expert",
    teacherConfig: "paper-teacher",
    teacherSteps: 40000,
    teacherLr: 3e-4,
    batch: 16,
    seqLen: 1024,
    stepsPerClass: 5000,
    lr: 6e-4,
    evalRows: 256,
    evalsPerRun: 5,
  },
};

/** Flags that override a preset, plus the inputs that are not part of one. */
export type MoEVariantsOverrides = Overrides<MoEVariantsPreset> & {
  tokenizer?: string | undefined;
  router?: string | undefined;
  teacher?: string | undefined;
  distill?: DistillSettings | undefined;
};

/**
 * The paper's loss: α·CE + (1 − α)·KD with KD the forward KL at τ = 1 and no τ² factor (what
 * the paper's code computes), α = ½, every step.
 */
export const PAPER_DISTILL: DistillSettings = {
  kd: "forward",
  temperature: 1,
  kdScale: "none",
  alpha: parseAlpha("0.5"),
  lossSchedule: "combined",
  alternate: "step",
};

/**
 * Resolves the parameters of a MoE-variants study.
 *
 * @param scale The preset.
 * @param data The token shard directory.
 * @param overrides Explicit flags, which win over the preset; `router` is required.
 * @returns The parameters.
 * @throws {InvalidRequest} If the router is missing or routes other classes than the shards hold,
 *   the batch is not a multiple of the class count, or a sequence is longer than a context.
 */
export async function moeVariantsParams(
  scale: Scale,
  data: string,
  overrides: MoEVariantsOverrides,
): Promise<MoEVariantsParams> {
  const { tokenizer, router, teacher, distill, ...flags } = overrides;
  const p = withOverrides(MOE_VARIANTS_PRESETS[scale], flags);
  const shards = await experimentData(data, tokenizer);
  const classes = await routerClasses(router, shards.manifest.classes);
  if (p.batch % classes.length !== 0) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${
          s.option("batch")
        } ${p.batch}: it must be a multiple of the ${classes.length} classes (the common expert's batches are balanced)`,
      { option: "batch" },
    );
  }
  const vocab = shards.manifest.tokenizer.vocabSize;
  const student = await experimentModel(p, vocab, p.seqLen);
  const t = await experimentModel(
    {
      config: p.teacherConfig,
      layers: p.teacherLayers,
      dModel: p.teacherDModel,
      heads: p.teacherHeads,
      contextLength: p.teacherContextLength,
    },
    vocab,
    p.seqLen,
  );
  if (teacher !== undefined && !await exists(teacher)) {
    throw new InvalidRequest(
      (s) => `Invalid ${s.option("teacher")} "${teacher}": no such directory`,
      { option: "teacher" },
    );
  }
  return {
    scale,
    data: shards.data,
    tokenizerPath: shards.tokenizerPath,
    classes,
    router: resolve(router!),
    teacher: {
      given: teacher === undefined ? null : resolve(teacher),
      modelName: t.name,
      model: t.model,
      steps: p.teacherSteps,
      lr: p.teacherLr,
    },
    modelName: student.name,
    model: student.model,
    batch: p.batch,
    seqLen: p.seqLen,
    stepsPerClass: p.stepsPerClass,
    lr: p.lr,
    distill: distill ?? PAPER_DISTILL,
    evalRows: p.evalRows,
    evalsPerRun: p.evalsPerRun,
  };
}

/** The router's classes, which must be the shards' (in any order). */
async function routerClasses(path: string | undefined, shardClasses: string[]): Promise<string[]> {
  const refuse = (describe: Describe, cause?: unknown) =>
    new InvalidRequest(describe, { option: "router", cause });
  const train = (s: Spelling) => `train one with: ${s.step("trainRouter")}`;
  if (path === undefined) {
    throw refuse((s) =>
      `Missing ${s.option("router", "FILE")}: the study routes every sequence (${train(s)})`
    );
  }
  if (!await exists(path)) {
    throw refuse((s) => `Invalid ${s.option("router")} "${path}": no such file (${train(s)})`);
  }
  let classes: string[];
  try {
    classes = (await Router.load(path)).classes;
  } catch (error) {
    const why = (error as Error).message;
    throw refuse((s) => `Invalid ${s.option("router")} "${path}": ${why}`, error);
  }
  const same = classes.length === shardClasses.length &&
    classes.every((c) => shardClasses.includes(c));
  if (!same) {
    const has = `it routes to ${classes.join(", ")}, the shards hold ${shardClasses.join(", ")}`;
    throw refuse((s) => `Invalid ${s.option("router")} "${path}": ${has}`);
  }
  return classes;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
