/**
 * `moe distill`: distil a teacher into a student — one per-language expert (`--lang fr`) or a
 * multilingual student (`--lang all`) — online or from a teacher cache built once by
 * `moe distill cache`.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable } from "../core/files/mod.ts";
import {
  buildTeacherCache,
  distill,
  type DistillSource,
  type DistillSummary,
  loadTeacher,
} from "../pipeline/distill/mod.ts";
import { openTokens } from "../core/tokenizer/mod.ts";
import type { ResumePoint, TrainOptions } from "../pipeline/training/mod.ts";
import {
  action,
  BACKEND_HELP,
  type GlobalOptions,
  openCommandBackend,
  printJson,
  standardCommand,
  THREADS_HELP,
} from "./_run.ts";
import {
  addDropoutOption,
  addRunOptions,
  freshRunOptions,
  printRunSummary,
  requireData,
  requireOut,
  type RunFlags,
  runTraining,
  withDropout,
} from "./_training.ts";
import { addDistillOptions, type DistillFlags, distillSettings } from "./_distill_options.ts";
import { distillRules, dropoutRule, resumeRun } from "./_resume.ts";
import { integerIn, numberIn } from "./_option_values.ts";

interface Flags extends RunFlags, DistillFlags {
  cache?: string;
  dropout?: number;
  lang: string;
}

/** The `distill` command and its `cache` subcommand. */
export function distillCommand(): Command {
  const cmd = standardCommand(
    "distill",
    "Distil a teacher into a student: a per-language expert (--lang fr) or all classes",
  );
  return addDistillOptions(
    addDropoutOption(addRunOptions(cmd, { config: "tiny", steps: 1000, lr: 1e-3 })),
    "teacher: a moe train run or step directory, or a Hugging Face GPT-2 folder",
  )
    .enablePositionalOptions()
    .option("--cache <DIR>", "distil from a teacher cache (moe distill cache) instead of online")
    .option("--lang <CLASS|all>", "the class the student learns (a PLE expert), or all", "all")
    .addHelpText(
      "after",
      `
Examples:
  moe distill --teacher runs/teacher --data data/tokens --lang fr --out experts/fr
  moe distill --teacher runs/teacher --data data/tokens --lang all --alpha adaptive --out runs/student
  moe distill cache --teacher runs/teacher --data data/tokens --top-k 32 --out cache/teacher
  moe distill --cache cache/teacher --data data/tokens --lang de --out experts/de
  moe distill --teacher runs/teacher --data data/tokens --lang en --dropout 0.1 --out experts/en
  moe distill --out experts/fr --resume`,
    )
    .action(action(async (given: Flags, cmd: Command) => {
      const flags = requireOut(given);
      const { result, backend } = await runTraining(
        flags,
        () => flags.resume ? resumed(cmd, flags) : fresh(flags),
        ({ options, source }, ctx) => distill(options, source, ctx),
      );
      report(result, backend, flags.json ?? false);
    }))
    .addCommand(cacheCommand());
}

async function fresh(
  flags: Flags,
): Promise<{ options: TrainOptions; source: DistillSource }> {
  if (flags.teacher === undefined && flags.cache === undefined) {
    throw new UsageError("Missing --teacher or --cache: what to distil from");
  }
  const manifest = await openTokens(requireData(flags));
  const order = flags.lang === "all" ? manifest.classes : [flags.lang];
  if (!manifest.classes.includes(order[0]!)) {
    throw new UsageError(
      `Invalid --lang "${flags.lang}": "${flags.data}" has ${manifest.classes.join(", ")} (or all)`,
    );
  }
  const options = await freshRunOptions(flags, manifest, {
    order,
    schedule: "balanced",
    accumulate: 1,
  });
  const source: DistillSource = {
    teacher: flags.teacher ?? null,
    cache: flags.cache ?? null,
    ...distillSettings(flags),
  };
  return { options: withDropout(options, flags.dropout), source };
}

/** The run's own options and source, with what the flags may change (see `_resume.ts`). */
async function resumed(
  cmd: Command,
  flags: Flags & { out: string },
): Promise<{ options: TrainOptions; source: DistillSource }> {
  const sourceOf = (point: ResumePoint): DistillSource => {
    const source = point.config.distill as DistillSource | undefined;
    if (source === undefined) {
      throw new UsageError(`Cannot resume "${flags.out}": it is not a distillation run`);
    }
    return source;
  };
  const { point, options } = await resumeRun(cmd, flags, ["moe-gpt"], (point, o) => {
    const source = sourceOf(point);
    const lang = o.order.length === 1 ? o.order[0] : "all";
    return {
      dropout: dropoutRule(o),
      ...distillRules(source),
      cache: { keep: "teacher cache", value: source.cache },
      lang: { keep: "class", value: lang },
    };
  });
  return { options, source: sourceOf(point) };
}

function report(s: DistillSummary, backend: string, json: boolean): void {
  printRunSummary(s, backend, json, {});
  if (json || s.teacherVal === null) return;
  for (const [cls, t] of Object.entries(s.teacherVal)) {
    const student = s.val[cls];
    if (!student) continue;
    console.log(
      `  ${cls}: student perplexity ${student.ppl.toFixed(2)} vs teacher ${t.ppl.toFixed(2)} ` +
        `(${((student.ppl / t.ppl - 1) * 100).toFixed(1)} %)`,
    );
  }
}

interface CacheFlags extends GlobalOptions {
  teacher: string;
  data: string;
  out: string;
  lang: string;
  topK: number;
  temperature: number;
  seqLen?: number;
  batch: number;
  backend?: string;
  threads?: string;
  force?: boolean;
}

function cacheCommand(): Command {
  return standardCommand(
    "cache",
    "Run the teacher once over the train shards and store its top-k log-probabilities",
  )
    .requiredOption(
      "--teacher <RUN>",
      "teacher: a moe train run or step directory, or a Hugging Face GPT-2 folder",
    )
    .requiredOption("--data <DIR>", "token shard directory (the teacher's tokenizer)")
    .requiredOption("-o, --out <DIR>", "cache directory to create")
    .option("--lang <A,B,…|all>", "classes to cache", "all")
    .option(
      "--top-k <K>",
      "tokens kept per position (the rest is one bucket)",
      integerIn(1, 1 << 24),
      32,
    )
    .option("--temperature <T>", "temperature the students will use", numberIn(0.05, 100), 2)
    .option("--seq-len <N>", "window length (default: the teacher's context)", integerIn(1, 65536))
    .option("--batch <N>", "windows per teacher run", integerIn(1, 65536), 16)
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .option("--force", "replace an existing cache")
    .addHelpText(
      "after",
      `
Examples:
  moe distill cache --teacher runs/teacher --data data/tokens --out cache/teacher
  moe distill cache --teacher runs/teacher --data data/tokens --lang fr,de --top-k 64 --out cache/fr-de`,
    )
    .action(action(buildCache));
}

/** Checks `--lang` against the shards, runs the teacher over them and prints the cache's size. */
async function buildCache(flags: CacheFlags): Promise<void> {
  if (flags.force) {
    await assertReplaceable(flags.out, { kind: "dir", inputs: [flags.teacher, flags.data] });
  }
  const classes = await cacheClasses(flags);
  const teacher = await loadTeacher(flags.teacher);
  const { backend } = await openCommandBackend(flags);
  const started = performance.now();
  const m = await buildTeacherCache({
    teacher,
    data: flags.data,
    classes,
    ...(flags.seqLen !== undefined ? { seqLen: flags.seqLen } : {}),
    topK: flags.topK,
    temperature: flags.temperature,
    batch: flags.batch,
    backend,
    out: flags.out,
    replace: flags.force ?? false,
    progress: createProgress({ quiet: flags.json ?? false, unit: "tok" }),
  });
  const seconds = (performance.now() - started) / 1000;
  const positions = Object.values(m.classes).reduce((s, c) => s + c.windows * m.seqLen, 0);
  const summary = {
    out: flags.out,
    classes: m.classes,
    positions,
    bytes: m.bytes,
    mbPerMillionTokens: m.bytes / positions,
    seconds,
    tokensPerSecond: positions / seconds,
    backend: backend.description,
  };
  if (flags.json) return printJson(summary);
  console.log(
    `cached the teacher's top-${m.topK} at τ ${m.temperature} for ${positions} positions of ${
      Object.keys(m.classes).join(", ")
    } in ${seconds.toFixed(1)} s (${
      Math.round(summary.tokensPerSecond)
    } tokens/s on ${summary.backend})`,
  );
  console.log(
    `${(m.bytes / 1e6).toFixed(1)} MB (${
      summary.mbPerMillionTokens.toFixed(0)
    } MB per million tokens) in ${flags.out}`,
  );
}

/** The classes `--lang` names (all: the shards'), each checked to be in the shards. */
async function cacheClasses(flags: CacheFlags): Promise<string[]> {
  const manifest = await openTokens(flags.data);
  const classes = flags.lang === "all"
    ? manifest.classes
    : flags.lang.split(",").map((c) => c.trim());
  const unknown = classes.filter((c) => !manifest.classes.includes(c));
  if (unknown.length > 0) {
    throw new UsageError(
      `Invalid --lang "${flags.lang}": "${flags.data}" has ${manifest.classes.join(", ")}`,
    );
  }
  return classes;
}
