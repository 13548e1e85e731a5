/**
 * The sub-runs of the distillation experiments: the teacher (given, or trained at the scale),
 * the teacher's validation on the students' windows (the reference line of the reports), and
 * one student per setting — all students with the same seed, data order and budget, so they
 * differ only in the setting under study.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../core/files/mod.ts";
import {
  type DistillSettings,
  loadTeacher,
  teacherValidation,
} from "../../pipeline/distill/mod.ts";
import type { TrainOptions } from "../../pipeline/training/mod.ts";
import type { SubRun } from "../experiment.ts";
import type { DistillParams } from "./distill_params.ts";
import { teacherAfter, teacherDir, type TeacherPlan, teacherSubRuns } from "../teacher_job.ts";
import { experimentTrainOptions } from "../run_options.ts";
import { trainJob } from "../train_job.ts";

/** Name of the sub-run that evaluates the teacher on the students' validation windows. */
export const TEACHER_VAL_RUN = "teacher-val";

/**
 * A student's training options: balanced batches of its classes, evaluated and checkpointed
 * `p.evals` times.
 *
 * @param p The experiment's parameters.
 * @param seed The seed (initialization and data order).
 * @returns Options for `distill()`.
 *
 * @example
 * ```ts
 * import { studentOptions } from "./distill_jobs.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * import type { DistillParams } from "./distill_params.ts";
 * const p = { data: "d", modelName: "tiny", model: GPT_CONFIGS.tiny, batch: 8, seqLen: 64, steps: 100,
 *   lr: 3e-3, classes: ["fr"], evals: 4, evalRows: 16 } as DistillParams;
 * console.assert(studentOptions(p, 1).evalEvery === 25);
 * ```
 */
export function studentOptions(p: DistillParams, seed: number): TrainOptions {
  // Distillation runs one micro-batch per step.
  return experimentTrainOptions({
    ...p,
    schedule: "balanced",
    order: p.classes,
    every: p.steps / p.evals,
    seed,
  });
}

/**
 * Where the experiment's teacher comes from: the given checkpoint, or a training job on balanced
 * batches of every class with the students' batch geometry, evaluated and checkpointed 4 times.
 *
 * @example
 * ```ts
 * import { teacherPlan } from "./distill_jobs.ts";
 * import type { DistillParams } from "./distill_params.ts";
 * const p = { teacher: null, teacherTraining: { steps: 200, lr: 3e-3, classes: ["en", "fr"] }, classes: ["fr"], steps: 100, evals: 4 } as DistillParams;
 * const plan = teacherPlan(p, 1);
 * console.assert(plan.given === null && plan.options.order.join() === "en,fr" && plan.options.lr.steps === 200);
 * ```
 */
export function teacherPlan(p: DistillParams, seed: number): TeacherPlan {
  const t = p.teacherTraining;
  const options = t === null ? studentOptions(p, seed) : experimentTrainOptions({
    ...p,
    modelName: t.modelName,
    model: t.model,
    lr: t.lr,
    steps: t.steps,
    schedule: "balanced",
    order: t.classes,
    every: Math.max(1, Math.floor(t.steps / 4)),
    seed,
  });
  return { given: p.teacher, options, tokenizerPath: p.tokenizerPath };
}

/**
 * The sub-runs every distillation experiment starts with: the teacher's training (when none is
 * given) and its validation on the students' windows (one `eval` record at the students' last
 * step, so the reports can draw it beside them).
 */
export function teacherRuns(p: DistillParams, seed: number, plan: TeacherPlan): SubRun[] {
  const val: SubRun = {
    name: TEACHER_VAL_RUN,
    title: "teacher on the students' validation windows",
    after: teacherAfter(plan),
    async run(dir, ctx) {
      const teacher = await loadTeacher(teacherDir(plan, ctx));
      const o = studentOptions(p, seed);
      const val = await teacherValidation(ctx.env.backend, teacher, o, p.classes);
      const record = { event: "eval", step: p.steps, teacher: teacher.dir, val };
      await writeFileAtomic(join(dir, "metrics.jsonl"), JSON.stringify(record) + "\n");
    },
  };
  return [...teacherSubRuns(plan), val];
}

/**
 * One student: `settings` (α rule, loss schedule, alternation) on top of the experiment's KD
 * settings.
 */
export function studentRun(
  p: DistillParams,
  seed: number,
  plan: TeacherPlan,
  run: {
    name: string;
    title: string;
    settings: Pick<DistillSettings, "alpha" | "lossSchedule" | "alternate">;
  },
): SubRun {
  return trainJob({
    name: run.name,
    title: run.title,
    options: studentOptions(p, seed),
    tokenizerPath: p.tokenizerPath,
    after: teacherAfter(plan),
    distill: (ctx) => ({
      teacher: teacherDir(plan, ctx),
      cache: null,
      kd: p.kd,
      temperature: p.temperature,
      ...(p.kdScale ? { kdScale: p.kdScale } : {}),
      ...run.settings,
    }),
  });
}
