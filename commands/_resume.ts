/**
 * `--resume` and the other flags (issue #15): a flag given together with `--resume` is never
 * ignored. It is applied where a resumed run can change it — `--steps` (the learning-rate
 * schedule is recomputed for the new length), `--data` (shards that moved: checked by sha256),
 * `--eval-every`, `--checkpoint-every`, `--keep` — accepted when it repeats the run's own value,
 * and otherwise refused with one usage line naming the flag and the run's value.
 *
 * @module
 */
import type { Command, Option } from "commander";
import { resolve } from "node:path";
import { UsageError } from "./_errors.ts";
import { type AlphaRule, type DistillSettings, parseAlpha } from "../pipeline/distill/mod.ts";
import {
  findResumePoint,
  resolveModel,
  type ResumePoint,
  type TrainOptions,
} from "../pipeline/training/mod.ts";
import type { RunFlags } from "./_training.ts";

/**
 * What `--resume` does with a flag given on the command line: `apply` it, `ignore` it (it does not
 * change the run: `--backend`, `--threads`, `--tokenizer`, `--json`), or refuse any value but the
 * run's own (`keep`: what the value is, for the message; `same`: when equality is not plain).
 */
export type ResumeRule =
  | "apply"
  | "ignore"
  | { keep: string; value: unknown; same?: (given: unknown) => boolean | Promise<boolean> };

/** A resumed run: its checkpoint and the options it continues with. */
export interface ResumedRun {
  point: ResumePoint;
  options: TrainOptions;
}

/**
 * Finds the checkpoint to resume `flags.out` from and checks every flag given with `--resume`
 * against it.
 *
 * @param cmd The command (it tells which flags were given, not defaulted).
 * @param flags Its parsed flags.
 * @param formats The checkpoint formats the command continues.
 * @param extra The command's own flags' rules, from the checkpoint.
 * @returns The checkpoint and the options, with `--steps`, `--data`, `--eval-every`,
 *   `--checkpoint-every` and `--keep` applied.
 * @throws {UsageError} Naming a flag that would change what a resumed run keeps, with the run's
 *   value; `--force` with `--resume`; `--steps` below the checkpoint's step or changing a
 *   sequential run's length.
 */
export async function resumeRun(
  cmd: Command,
  flags: RunFlags & { out: string },
  formats: readonly string[],
  extra: (point: ResumePoint, saved: TrainOptions) => Record<string, ResumeRule> = () => ({}),
): Promise<ResumedRun> {
  if (given(cmd, "force")) {
    throw new UsageError(
      "Invalid --force with --resume: --resume continues the run in --out, --force starts it afresh",
    );
  }
  const point = await findResumePoint(flags.out, formats);
  const saved = (point.config.trainer as unknown as { options: TrainOptions }).options;
  await checkResumeFlags(cmd, { ...runRules(saved), ...extra(point, saved) });
  const step = point.config.trainer.step;
  if (given(cmd, "steps") && flags.steps !== saved.lr.steps) {
    if (flags.steps < step) {
      throw new UsageError(
        `Invalid --steps ${flags.steps}: the run's checkpoint is at step ${step} already`,
      );
    }
    if (saved.schedule === "sequential") {
      throw new UsageError(
        `Invalid --steps ${flags.steps}: a sequential run keeps its length (${saved.lr.steps}), its phases are cut from it`,
      );
    }
  }
  const options: TrainOptions = {
    ...saved,
    data: given(cmd, "data") && flags.data !== undefined ? flags.data : saved.data,
    lr: { ...saved.lr, steps: given(cmd, "steps") ? flags.steps : saved.lr.steps },
    evalEvery: given(cmd, "evalEvery") ? flags.evalEvery : saved.evalEvery,
    checkpointEvery: given(cmd, "checkpointEvery") ? flags.checkpointEvery : saved.checkpointEvery,
    keep: given(cmd, "keep") ? flags.keep : saved.keep,
  };
  return { point, options };
}

/** Whether flag `attribute` was given on the command line (not a default). */
export function given(cmd: Command, attribute: string): boolean {
  return cmd.getOptionValueSource(attribute) === "cli";
}

/**
 * Refuses a flag given on the command line whose rule keeps the run's value and whose value is
 * another; a flag without a rule is refused too (never silently ignored).
 *
 * @param cmd The command.
 * @param rules By option attribute name (`minLr` for `--min-lr`).
 * @throws {UsageError} `Invalid --lr 0.001: a resumed run keeps its peak learning rate (0.0006)`.
 */
export async function checkResumeFlags(
  cmd: Command,
  rules: Record<string, ResumeRule>,
): Promise<void> {
  const values = cmd.opts() as Record<string, unknown>;
  for (const option of cmd.options as readonly Option[]) {
    const attribute = option.attributeName();
    if (!given(cmd, attribute) || attribute === "resume") continue;
    const rule = rules[attribute] ?? null;
    if (rule === "apply" || rule === "ignore") continue;
    const flag = option.long ?? option.flags;
    const value = values[attribute];
    if (rule === null) {
      throw new UsageError(`Invalid ${flag} with --resume: a resumed run keeps its options`);
    }
    const same = rule.same ? await rule.same(value) : shown(value) === shown(rule.value);
    if (!same) {
      throw new UsageError(
        `Invalid ${flag}${
          option.isBoolean() ? "" : ` ${shown(value)}`
        }: a resumed run keeps its ${rule.keep} (${shown(rule.value)})`,
      );
    }
  }
}

/** The rules of the flags every training command shares (`addRunOptions`). */
function runRules(o: TrainOptions): Record<string, ResumeRule> {
  const m = o.model;
  return {
    data: "apply",
    out: "ignore",
    json: "ignore",
    debug: "ignore",
    tokenizer: "ignore", // where the shards' tokenizer is; checked against their fingerprint
    backend: "ignore",
    threads: "ignore",
    steps: "apply",
    evalEvery: "apply",
    checkpointEvery: "apply",
    keep: "apply",
    config: {
      keep: "model",
      value: o.modelName,
      // A JSON file describing the very same model is the same model.
      same: async (given) =>
        given === o.modelName || (o.modelName === "custom" && String(given).endsWith(".json") &&
          sameModel((await resolveModel(String(given), {}, m.vocabSize)).model, m)),
    },
    layers: { keep: "number of layers", value: m.layers },
    dModel: { keep: "residual width", value: m.dModel },
    heads: { keep: "number of heads", value: m.heads },
    ctx: { keep: "context length", value: m.contextLength },
    vocabSize: { keep: "vocab size", value: m.vocabSize },
    batch: { keep: "batch", value: o.batch },
    seqLen: { keep: "sequence length", value: o.seqLen },
    lr: { keep: "peak learning rate", value: o.lr.lr },
    minLr: { keep: "final learning rate", value: o.lr.minLr },
    warmup: { keep: "warm-up", value: o.lr.warmup },
    decay: { keep: "decay", value: o.lr.decay },
    weightDecay: { keep: "weight decay", value: o.adamw.weightDecay },
    clip: { keep: "gradient clip", value: o.adamw.clipNorm },
    evalRows: { keep: "validation rows (its curve stays comparable)", value: o.evalRows },
    seed: { keep: "seed", value: o.seed },
  };
}

/** The rule of `--dropout` (train, distill): the run's rate, 0 when it had none. */
export function dropoutRule(o: TrainOptions): ResumeRule {
  return { keep: "dropout", value: o.model.dropout ?? 0 };
}

/**
 * The rules of the distillation flags (`addDistillOptions`) for a run distilled with `d` (null:
 * a `train-moe` run on cross-entropy alone, which keeps having no teacher).
 */
export function distillRules(
  d: (DistillSettings & { teacher: string | null }) | null,
): Record<string, ResumeRule> {
  return {
    teacher: {
      keep: "teacher",
      value: d?.teacher ?? null,
      same: (t) => d?.teacher != null && resolve(String(t)) === resolve(d.teacher),
    },
    kd: { keep: "KD direction", value: d?.kd ?? null },
    temperature: { keep: "temperature", value: d?.temperature ?? null },
    alpha: {
      keep: "α rule",
      value: d ? alphaText(d.alpha) : null,
      same: (a) => d !== null && alphaText(parseAlpha(String(a))) === alphaText(d.alpha),
    },
    schedule: { keep: "loss schedule", value: d?.lossSchedule ?? null },
    alternate: { keep: "alternation", value: d ? d.alternate ?? "step" : null },
    kdScale: { keep: "KD scale", value: d ? d.kdScale ?? "tau2" : null },
  };
}

/** An α rule as `--alpha` spells it. */
function alphaText(rule: AlphaRule): string {
  return rule.kind === "fixed" ? String(rule.alpha) : rule.kind === "paper" ? "adaptive" : "dwa";
}

function sameModel(a: TrainOptions["model"], b: TrainOptions["model"]): boolean {
  const { dropout: _a, ...x } = a;
  const { dropout: _b, ...y } = b;
  return shown(x) === shown(y);
}

/** A flag value as the user would type it: `0.001`, `en,fr`, `none`; objects as sorted JSON. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") {
    return JSON.stringify(
      value,
      (_, v) =>
        v && typeof v === "object" && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
          : v,
    );
  }
  return String(value);
}
