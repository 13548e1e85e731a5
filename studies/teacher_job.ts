/**
 * The teacher of a distillation experiment: a checkpoint the user gives (`--teacher DIR`, so
 * several experiments can share one), or else a sub-run named `teacher` that trains it at the
 * experiment's scale before the students that need it.
 *
 * @module
 */
import type { TrainOptions } from "../pipeline/training/mod.ts";
import type { JobContext, SubRun } from "./experiment.ts";
import { trainJob } from "./train_job.ts";

/** Name of the sub-run that trains the teacher when none is given. */
export const TEACHER_RUN = "teacher";

/** Where an experiment's teacher comes from. */
export interface TeacherPlan {
  /** A `moe train` run or checkpoint directory (absolute), or null to train one. */
  given: string | null;
  /** How to train it when none is given. */
  options: TrainOptions;
  /** The tokenizer of the data. */
  tokenizerPath: string;
}

/**
 * The sub-runs that provide the teacher: none for a given one, else one training job.
 *
 * @example
 * ```ts
 * import { teacherSubRuns } from "./teacher_job.ts";
 * import type { TrainOptions } from "../pipeline/training/mod.ts";
 * const given = { given: "/runs/teacher", options: {} as TrainOptions, tokenizerPath: "tok.json" };
 * console.assert(teacherSubRuns(given).length === 0);
 * console.assert(teacherSubRuns({ ...given, given: null })[0]!.name === "teacher");
 * ```
 */
export function teacherSubRuns(plan: TeacherPlan): SubRun[] {
  if (plan.given !== null) return [];
  return [trainJob({
    name: TEACHER_RUN,
    title: "teacher (cross-entropy, balanced batches)",
    options: plan.options,
    tokenizerPath: plan.tokenizerPath,
  })];
}

/** The sub-runs a student waits for: the teacher's, when the experiment trains it. */
export function teacherAfter(plan: TeacherPlan): string[] {
  return plan.given === null ? [TEACHER_RUN] : [];
}

/** The teacher's directory when a student runs. */
export function teacherDir(plan: TeacherPlan, ctx: JobContext): string {
  return plan.given ?? ctx.dirOf(TEACHER_RUN);
}
