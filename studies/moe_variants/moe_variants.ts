/**
 * The MoE-variants study (arXiv 2407.19610 §3–4: "PLE ≈ JEET > MoE-CE without its common
 * expert"). Per seed, every student distilled from one teacher with the same KD loss and the
 * same budget per class:
 *
 * - `teacher` (unless `--teacher`): trained on balanced batches of every class;
 * - `ple-<class>`: one expert per class, distilled on its class alone (PLE);
 * - `common`: one expert distilled on balanced batches of every class;
 * - `jeet`, `moe-ce`: the jointly trained mixtures (`trainMoE`, round-robin, KD from the teacher);
 * - `eval`: assembles the PLE (with the common expert), JEET and MoE-CE bundles with the router
 *   and evaluates them on the validation split (`evaluateBundle`): routed and oracle rows, MoE-CE
 *   with and without its common stack, the common expert alone, the teacher, routing accuracy,
 *   and the paper's uniform expert averages of every bundle (en+py, fr+py, de+py, all; each with
 *   and without the common expert where the bundle has one).
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../core/files/mod.ts";
import {
  assembleBundle,
  type AssembleOptions,
  averageRowName,
  type EvalOptions,
  type EvalReport,
  evaluateBundle,
  loadBundle,
  paperAverages,
  trainMoE,
} from "../../pipeline/moe/mod.ts";
import { ADAMW_DEFAULTS } from "../../core/optim/mod.ts";
import type { Schedule, TrainOptions } from "../../pipeline/training/mod.ts";
import {
  MOE_VARIANT_SPECS,
  MOE_VARIANTS,
  type MoEVariant,
} from "../../models/moe_variant_specs.ts";
import type { Experiment, JobContext, SubRun } from "../experiment.ts";
import type { MoEVariantsParams } from "./moe_variants_params.ts";
import { moeVariantsReport } from "./moe_variants_report.ts";
import {
  type AverageRow,
  EVAL_FILE,
  EVAL_RUN,
  VARIANT_ROWS,
  type VariantRow,
  type VariantsEval,
} from "./moe_variants_rows.ts";
import { kdText } from "../distillation/distill_report.ts";
import { shownPath } from "../../core/report/mod.ts";
import { teacherAfter, teacherDir, type TeacherPlan, teacherSubRuns } from "../teacher_job.ts";
import { experimentTrainOptions } from "../run_options.ts";
import { trainJob } from "../train_job.ts";

/**
 * A student's training options: 5 % warm-up then cosine decay to a tenth (the paper's schedule),
 * evaluations and checkpoints `p.evalsPerRun` times.
 */
function studentOptions(
  p: MoEVariantsParams,
  run: { order: string[]; steps: number; schedule: Schedule; seed: number },
): TrainOptions {
  return experimentTrainOptions({
    ...p,
    ...run,
    every: Math.max(1, Math.floor(run.steps / p.evalsPerRun)),
  });
}

/** The teacher: the given one, or a run on balanced batches with the students' rows. */
export function variantsTeacherPlan(p: MoEVariantsParams, seed: number): TeacherPlan {
  const t = p.teacher;
  const o = studentOptions(p, {
    order: p.classes,
    steps: t.steps,
    schedule: "balanced",
    seed,
  });
  return {
    given: t.given,
    options: {
      ...o,
      modelName: t.modelName,
      model: t.model,
      lr: { ...o.lr, lr: t.lr, minLr: t.lr / 10 },
    },
    tokenizerPath: p.tokenizerPath,
  };
}

/**
 * The sub-runs of one seed (see the module doc). Budget: every variant trains
 * `stepsPerClass` steps of `batch` rows per class — a PLE expert `stepsPerClass` steps on its
 * class, the common expert `classes × stepsPerClass` balanced steps, JEET and MoE-CE
 * `classes × stepsPerClass` round-robin steps (one class per step).
 */
export function moeVariantsSubRuns(p: MoEVariantsParams, seed: number): SubRun[] {
  const plan = variantsTeacherPlan(p, seed);
  const after = teacherAfter(plan);
  const all = p.stepsPerClass * p.classes.length;
  const source = (ctx: JobContext) => ({ teacher: teacherDir(plan, ctx), ...p.distill });
  const student = (name: string, title: string, order: string[], steps: number) =>
    trainJob({
      name,
      title,
      options: studentOptions(p, { order, steps, schedule: "balanced", seed }),
      tokenizerPath: p.tokenizerPath,
      after,
      distill: (ctx) => ({ ...source(ctx), cache: null }),
    });
  const mixture = (variant: MoEVariant) =>
    trainJob({
      name: variant,
      title: `${MOE_VARIANT_SPECS[variant].title} (${MOE_VARIANT_SPECS[variant].summary})`,
      options: studentOptions(p, { order: p.classes, steps: all, schedule: "round-robin", seed }),
      tokenizerPath: p.tokenizerPath,
      after,
      trainer: (options, trainCtx, ctx) =>
        trainMoE({ model: p.model, classes: p.classes, variant }, options, trainCtx, source(ctx)),
    });
  const trained = [
    ...p.classes.map((c) => student(`ple-${c}`, `PLE expert ${c}`, [c], p.stepsPerClass)),
    student("common", "common expert (all classes, balanced)", p.classes, all),
    ...MOE_VARIANTS.map(mixture),
  ];
  return [...teacherSubRuns(plan), ...trained, evalSubRun(p, plan, trained)];
}

/** Assembles the three bundles and evaluates them (see the module doc). */
function evalSubRun(p: MoEVariantsParams, plan: TeacherPlan, trained: SubRun[]): SubRun {
  return {
    name: EVAL_RUN,
    title: "evaluation of the assembled bundles (validation split, router)",
    after: trained.map((s) => s.name),
    async run(dir, ctx) {
      const options: EvalOptions = {
        data: p.data,
        split: "val",
        rows: p.evalRows,
        batch: p.batch,
        seqLen: p.seqLen,
        backend: ctx.env.backend,
      };
      const averages: AverageRow[] = [];
      const evaluate = async (
        name: VariantRow["bundle"],
        a: Omit<AssembleOptions, "router">,
        teacher = false,
      ) => {
        const out = join(dir, "bundles", name);
        await assembleBundle(out, { router: p.router, force: true, ...a });
        const bundle = await loadBundle(out);
        const average = paperAverages(bundle.manifest.classes, bundle.common !== null);
        const report = await evaluateBundle(bundle, {
          ...options,
          ...(teacher ? { teacher: teacherDir(plan, ctx) } : {}),
          average,
        });
        for (const members of average) {
          const row = report.rows.find((r) => r.name === averageRowName(members))!;
          averages.push({ bundle: name, members, perClass: row.perClass, mean: row.mean });
        }
        return report;
      };
      // PLE from its experts and common expert (with the teacher's row), then every jointly
      // trained variant from its run.
      const ple = await evaluate("ple", {
        experts: new Map(p.classes.map((c) => [c, ctx.dirOf(`ple-${c}`)])),
        common: ctx.dirOf("common"),
      }, true);
      const reports = new Map<VariantRow["bundle"], EvalReport>([["ple", ple]]);
      for (const v of MOE_VARIANTS) reports.set(v, await evaluate(v, { fromMoE: ctx.dirOf(v) }));
      const result: VariantsEval = {
        seqLen: ple.seqLen,
        sequences: ple.sequences,
        rows: VARIANT_ROWS.map((v) => {
          const r = reports.get(v.bundle)?.rows.find((x) => x.name === v.row);
          if (!r) throw new Error(`The ${v.bundle} evaluation has no "${v.row}" row`);
          return { key: v.key, perClass: r.perClass, mean: r.mean };
        }),
        averages,
        routing: ple.routing,
      };
      await writeFileAtomic(join(dir, EVAL_FILE), JSON.stringify(result, null, 2) + "\n");
    },
  };
}

/** `moe experiment moe-variants`. */
export const moeVariantsExperiment: Experiment<MoEVariantsParams> = {
  name: "moe-variants",
  title: "MoE variants: PLE vs JEET vs MoE-CE (with and without the common expert)",
  subRuns: moeVariantsSubRuns,
  setup(p) {
    const m = p.model, t = p.teacher, d = p.distill;
    const rows = p.stepsPerClass * p.batch;
    const alpha = d.alpha.kind === "fixed" ? String(d.alpha.alpha) : d.alpha.kind;
    const schedule = d.lossSchedule === "alternating"
      ? `alternating per ${d.alternate === "micro-batch" ? "micro-batch" : "class step"}`
      : "combined";
    return [
      `- scale: \`${p.scale}\`; data: \`${shownPath(p.data)}\`; classes: ${
        p.classes.join(", ")
      }; router: \`${shownPath(p.router)}\`\n`,
      `- teacher: ${
        t.given
          ? `\`${shownPath(t.given)}\``
          : `trained here: ${t.modelName} (${t.model.layers} layers, d ${t.model.dModel}), ${t.steps} balanced steps`
      }\n`,
      `- every student and stack: ${p.modelName} (${m.layers} layers, d ${m.dModel}, ${m.heads} heads, ctx ${m.contextLength}, vocab ${m.vocabSize})\n`,
      `- equal budget: every variant sees ${p.stepsPerClass} steps × ${p.batch} rows × ${p.seqLen} tokens = ${
        rows * p.seqLen
      } tokens of each class — a PLE expert ${p.stepsPerClass} steps on its class; the common expert, JEET and MoE-CE ${
        p.stepsPerClass * p.classes.length
      } steps (balanced batches / one class per step in turn)\n`,
      `- loss of every student: α·CE + (1 − α)·KD, KD = ${
        kdText(d)
      }, α ${alpha}, ${schedule}; AdamW (weight decay ${ADAMW_DEFAULTS.weightDecay}, clip ${ADAMW_DEFAULTS.clipNorm}), lr ${p.lr}, 5 % warm-up, cosine decay to lr/10\n`,
      `- evaluation: ${p.evalRows} validation sequences of ${p.seqLen} tokens per class; each sequence routed by the router on its own decoded text; oracle = its true class's expert; uniform averages: the experts of a subset with equal weights for every sequence (hidden states when they share their embedding: JEET, MoE-CE; next-token distributions otherwise: PLE)\n`,
    ].join("");
  },
  report: moeVariantsReport,
};
