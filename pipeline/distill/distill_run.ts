/**
 * A distillation run: checks that teacher, cache and data agree, trains the student with the
 * common training loop (checkpoints, exact resume, metrics with α/CE/KD per step), then
 * evaluates the teacher on the same validation windows so the report compares like with like.
 *
 * @module
 */
import { encode, Graph, reshape } from "../../core/graph/mod.ts";
import { crossEntropy } from "../../core/losses/mod.ts";
import type { Backend } from "../../core/runtime/mod.ts";
import {
  openTokenData,
  train,
  type TrainContext,
  type TrainOptions,
  type TrainSummary,
  validate,
  type ValReport,
} from "../training/mod.ts";
import { gptForward } from "../../models/gpt.ts";
import { checkCacheFits, openTeacherCache, type TeacherCache } from "./cache.ts";
import { DistillRunner, type DistillSettings, type TeacherSource } from "./distill_runner.ts";
import { checkSameTokenizer, loadTeacher, type Teacher } from "./teacher.ts";

/** Format of a distilled student's checkpoints: a plain GPT, usable wherever a teacher is. */
export const STUDENT_FORMAT = "moe-gpt";

/** What a run distils from (saved in each checkpoint's `config.json` as `distill`). */
export interface DistillSource extends DistillSettings {
  /** Teacher checkpoint (required online; optional from a cache, then checked against it). */
  teacher: string | null;
  /** Teacher cache directory (`moe distill cache`), or null for online distillation. */
  cache: string | null;
}

/** The report of a distillation: the training summary plus the teacher on the same windows. */
export interface DistillSummary extends TrainSummary {
  mode: "online" | "cache";
  /** The teacher's validation loss per class, when the teacher was available. */
  teacherVal: ValReport | null;
}

/**
 * Distils a student (any GPT config) from a teacher on the classes `options.order`.
 *
 * @param options The student's run (its `order` = the classes it learns: one for a PLE expert).
 * @param source Teacher, cache and loss settings.
 * @param ctx Backend, output directory, tokenizer, resume flag, progress, stop flag.
 * @throws {RangeError} If teacher, cache and data disagree (tokenizer, teacher, shard sizes,
 *   window length), naming both sides.
 */
export async function distill(
  options: TrainOptions,
  source: DistillSource,
  ctx: TrainContext,
): Promise<DistillSummary> {
  const { teacher, cache } = await openSources(options, source);
  try {
    const signal: TeacherSource = cache
      ? { kind: "cache", cache }
      : { kind: "online", teacher: teacher! };
    const summary = await train(options, {
      ...ctx,
      runner: (o) => DistillRunner.create(ctx.backend, o, signal, source),
      format: STUDENT_FORMAT,
      extra: {
        distill: {
          ...source,
          teacherFingerprint: teacher?.fingerprint ?? cache!.manifest.teacher.fingerprint,
        },
      },
    });
    const teacherVal = teacher
      ? await teacherValidation(ctx.backend, teacher, options, options.order)
      : null;
    return { ...summary, mode: cache ? "cache" : "online", teacherVal };
  } finally {
    cache?.close();
  }
}

async function openSources(
  o: TrainOptions,
  source: DistillSource,
): Promise<{ teacher: Teacher | null; cache: TeacherCache | null }> {
  if (source.teacher === null && source.cache === null) {
    throw new RangeError("Distillation needs a teacher checkpoint or a teacher cache");
  }
  const teacher = source.teacher === null ? null : await loadTeacher(source.teacher);
  const data = await openTokenData(o.data, o.model.vocabSize, o.seqLen);
  try {
    for (const c of o.order) {
      if (!data.train.has(c)) {
        throw new RangeError(
          `Cannot distil class "${c}": "${o.data}" has no shard for it (it has ${
            data.classes.join(", ")
          })`,
        );
      }
    }
    const tokenizer = data.manifest.tokenizer;
    if (teacher) {
      checkSameTokenizer(
        { ...teacher.config.tokenizer, source: teacher.dir },
        { ...tokenizer, source: o.data },
      );
      if (o.seqLen > teacher.config.model.contextLength) {
        throw new RangeError(
          `Cannot distil windows of ${o.seqLen} tokens: the teacher's context is ${teacher.config.model.contextLength}`,
        );
      }
    }
    if (source.cache === null) return { teacher, cache: null };
    const cache = await openTeacherCache(source.cache);
    try {
      checkCacheFits(cache, {
        tokenizer,
        tokens: Object.fromEntries(o.order.map((c) => [c, data.train.get(c)!.header.tokens])),
        ...(teacher ? { teacherFingerprint: teacher.fingerprint } : {}),
      });
      const m = cache.manifest;
      if (m.seqLen !== o.seqLen || m.temperature !== source.temperature) {
        throw new RangeError(
          `Cannot distil from the teacher cache "${source.cache}": it holds windows of ${m.seqLen} tokens at temperature ${m.temperature}, the run asks for ${o.seqLen} at ${source.temperature}`,
        );
      }
    } catch (error) {
      cache.close();
      throw error;
    }
    return { teacher, cache };
  } finally {
    data.close();
  }
}

/**
 * The teacher's mean cross-entropy per class on the validation windows the trainer evaluates
 * the student on (same rows, same batching).
 */
export async function teacherValidation(
  backend: Backend,
  teacher: Teacher,
  o: TrainOptions,
  classes: readonly string[],
): Promise<ValReport> {
  const { batch: B, seqLen: T } = o;
  const g = new Graph("teacher.eval");
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = g.input("targets", "int64", [B, T]);
  const logits = gptForward(g, teacher.config.model, tokens, {
    batch: B,
    seqLen: T,
    values: teacher.values,
  });
  g.output(crossEntropy(logits, reshape(targets, [B * T])), "loss");
  const session = await backend.createSession(
    encode(g, { parameters: "initializers", values: teacher.values }),
  );
  const data = await openTokenData(o.data, teacher.config.model.vocabSize, T);
  try {
    return await validate(data, { ...o, order: [...classes] }, async (_, b) => {
      const out = await session.run({
        tokens: session.wrap({ dtype: "int64", dims: [B, T], data: b.tokens }),
        targets: session.wrap({ dtype: "int64", dims: [B, T], data: b.targets }),
      });
      const loss = Number((await session.download(out.loss!)).data[0]);
      session.release(out.loss!);
      return loss;
    });
  } finally {
    data.close();
    await session.dispose();
  }
}
