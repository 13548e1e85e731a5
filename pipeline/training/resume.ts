/**
 * What `--resume` checks before a run continues (issue #15): which checkpoint to continue from
 * (a broken `latest` falls back to the newest complete step), that the shards are the ones the
 * run was trained on (tokenizer fingerprint and vocabulary, each shard's sha256), which changes
 * of the run's options are well defined, and the half-written checkpoints a kill left behind.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { sha256File } from "../../core/data/mod.ts";
import { openTokens, type TokensManifest } from "../../core/tokenizer/mod.ts";
import { findCheckpoint, isCompleteCheckpoint, listCheckpoints } from "./checkpoint.ts";
import type { CheckpointConfig } from "./config_schema.ts";
import type { TrainOptions } from "./training_run.ts";

/** The checkpoint a resumed run continues from. */
export interface ResumePoint {
  /** The checkpoint directory. */
  dir: string;
  config: CheckpointConfig;
  /** One line when it is not the one `latest` names (for the user). */
  note: string | null;
}

/**
 * The checkpoint to resume `out` from: the one `latest` names when it is complete, else the
 * newest complete `step-N` (with a note saying so).
 *
 * @param out The run directory.
 * @param formats Accepted `config.json` formats.
 * @returns The checkpoint and, when it fell back, the note.
 * @throws {Deno.errors.NotFound} If the run holds no complete checkpoint; the message names `out`.
 *
 * @example
 * ```ts
 * import { findResumePoint } from "./resume.ts";
 * const error = await findResumePoint(await Deno.makeTempDir()).catch((e) => e);
 * console.assert(String(error).includes("holds no complete checkpoint"));
 * ```
 */
export async function findResumePoint(
  out: string,
  formats: readonly string[] = ["moe-gpt"],
): Promise<ResumePoint> {
  const latest = (await Deno.readTextFile(join(out, "latest")).catch(() => null))?.trim() ?? null;
  if (
    latest !== null && /^step-\d+$/.test(latest) && await isCompleteCheckpoint(join(out, latest))
  ) {
    return { ...await findCheckpoint(join(out, latest), formats), note: null };
  }
  const names = await listCheckpoints(out).catch(() => []);
  for (const name of names.reverse()) {
    if (!(await isCompleteCheckpoint(join(out, name)))) continue;
    const found = await findCheckpoint(join(out, name), formats);
    const why = latest === null
      ? `"${out}" has no latest`
      : `"${join(out, "latest")}" names ${latest}, which is missing or incomplete`;
    return { ...found, note: `${why}: resuming from ${name}, the newest complete checkpoint` };
  }
  throw new Deno.errors.NotFound(
    `Cannot resume "${out}": it holds no complete checkpoint${
      latest === null ? "" : ` (its latest names ${latest}, which is missing or incomplete)`
    }`,
  );
}

/** Temporary siblings of atomic writes in a run directory (`.step-000004.tmp-123`). */
const LEFTOVER = /^\.(step-\d+|latest|metrics\.jsonl|attempts\.json|done\.json)\.tmp-[\w-]+$/;

/**
 * Removes what an interrupted writer left in a run directory: temporary checkpoint folders
 * (`.step-N.tmp-PID`) and temporary files of atomic writes (`.latest.tmp-…`). Only call it while
 * holding the run's lock: then nobody else is writing them.
 *
 * @param out The run directory.
 * @returns The names removed.
 *
 * @example
 * ```ts
 * import { removeLeftovers } from "./resume.ts";
 * const out = await Deno.makeTempDir();
 * await Deno.mkdir(`${out}/.step-000004.tmp-123`);
 * console.assert((await removeLeftovers(out)).join() === ".step-000004.tmp-123");
 * ```
 */
export async function removeLeftovers(out: string): Promise<string[]> {
  // Only names the trainer and the experiment runner write through temporary siblings.
  const removed: string[] = [];
  const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
  for (const e of entries) {
    if (!LEFTOVER.test(e.name)) continue;
    await Deno.remove(join(out, e.name), { recursive: true });
    removed.push(e.name);
  }
  return removed.sort();
}

/**
 * The sha256 of each shard as its manifest records it (`moe tokenizer encode` records them; older
 * manifests do not), keyed by relative path (`train/en.bin`). Saved in every checkpoint.
 *
 * @param manifest A token shard manifest.
 * @returns Path → sha256, for the shards that have one.
 */
export function shardDigests(manifest: TokensManifest): Record<string, string> {
  return Object.fromEntries(
    Object.entries(manifest.shards).flatMap(([path, e]) => e.sha256 ? [[path, e.sha256]] : []),
  );
}

/**
 * Checks that the shards in `data` are the ones the checkpoint was trained on: the same tokenizer
 * (fingerprint and vocabulary size), and every shard's sha256 equal to what the checkpoint
 * recorded (or, for a checkpoint that recorded none, to what the manifest records).
 *
 * @param out The run directory (for the message).
 * @param config The checkpoint's config.
 * @param data The token shard directory the run would continue on.
 * @param sameDir Whether `data` is the directory the run was trained on.
 * @throws {Error} Naming both fingerprints (or both sha256 values) on a mismatch, or when the
 *   shards moved and the checkpoint has no sha256 to recognise them by.
 */
export async function checkResumeData(
  out: string,
  config: CheckpointConfig,
  data: string,
  sameDir: boolean,
): Promise<void> {
  const manifest = await openTokens(data);
  const cannot = `Cannot resume "${out}" on "${data}"`;
  const ours = config.tokenizer, theirs = manifest.tokenizer;
  if (ours.fingerprint !== theirs.fingerprint || ours.vocabSize !== theirs.vocabSize) {
    throw new Error(
      `${cannot}: its shards were encoded with tokenizer ${
        short(theirs.fingerprint)
      } (vocab ${theirs.vocabSize}), the run with ${
        short(ours.fingerprint)
      } (vocab ${ours.vocabSize})`,
    );
  }
  const recorded = config.shards ?? {};
  const trainedOn = (config.trainer.options as Partial<TrainOptions> | undefined)?.data;
  const listed = shardDigests(manifest);
  if (!sameDir && Object.keys(recorded).length === 0) {
    throw new Error(
      `${cannot}: the run was trained on "${trainedOn}" and its checkpoint records no shard sha256 to check these against`,
    );
  }
  const expected = Object.keys(recorded).length > 0 ? recorded : listed;
  for (const [path, sha] of Object.entries(expected)) {
    const actual = await sha256File(join(data, path)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`${cannot}: shard ${path}, which the run was trained on, is missing`);
      }
      throw error;
    });
    if (actual === sha) continue;
    const whose = expected === recorded ? "the run was trained on" : "its manifest records";
    throw new Error(
      `${cannot}: shard ${path} has sha256 ${short(actual)}, ${whose} ${short(sha)}`,
    );
  }
}

/** What a resumed run may change (and what the rest of its options must keep). */
export type ResumeAdjustable = "steps" | "data" | "evalEvery" | "checkpointEvery" | "keep";

/**
 * The options a resumed run continues with: the saved ones, with the adjustable fields taken
 * from `requested` — the run's length (`lr.steps`: the schedule is recomputed for the new length,
 * as if the run had been planned that long; warm-up, peak and floor stay), the shard directory
 * (checked separately by {@linkcode checkResumeData}), and how often it evaluates, checkpoints,
 * and how many checkpoints it keeps. Any other difference is refused.
 *
 * @param out The run directory (for messages).
 * @param saved The checkpoint's options.
 * @param requested The options the caller asks for.
 * @param step The checkpoint's step.
 * @returns The options to continue with.
 * @throws {RangeError} Naming the first field that differs and both values, or a length that is
 *   below the checkpoint's step, or any change of length of a sequential run (its phases would
 *   move).
 *
 * @example
 * ```ts
 * import { resumedRunOptions } from "./resume.ts";
 * import type { TrainOptions } from "./training_run.ts";
 * const saved = { lr: { lr: 1e-3, minLr: 1e-4, warmup: 2, steps: 10, decay: "cosine" }, schedule: "mixed", keep: 1 } as TrainOptions;
 * const longer = resumedRunOptions("run", saved, { ...saved, lr: { ...saved.lr, steps: 20 } }, 10);
 * console.assert(longer.lr.steps === 20);
 * const error = (() => { try { resumedRunOptions("run", saved, { ...saved, lr: { ...saved.lr, lr: 1 } }, 10); } catch (e) { return String(e); } })();
 * console.assert(error?.includes("lr.lr is 0.001"));
 * ```
 */
export function resumedRunOptions(
  out: string,
  saved: TrainOptions,
  requested: TrainOptions,
  step: number,
): TrainOptions {
  const merged: TrainOptions = {
    ...saved,
    lr: { ...saved.lr, steps: requested.lr.steps },
    data: requested.data,
    evalEvery: requested.evalEvery,
    checkpointEvery: requested.checkpointEvery,
    keep: requested.keep,
  };
  const difference = firstDifference(merged, requested);
  if (difference !== null) {
    throw new RangeError(
      `Cannot resume "${out}": its ${difference.path} is ${difference.saved}, not ${difference.requested} (a resumed run keeps its options)`,
    );
  }
  if (merged.lr.steps !== saved.lr.steps) {
    if (merged.lr.steps < step) {
      throw new RangeError(
        `Cannot resume "${out}" for ${merged.lr.steps} steps: its checkpoint is at step ${step}`,
      );
    }
    if (saved.schedule === "sequential") {
      throw new RangeError(
        `Cannot resume "${out}" for ${merged.lr.steps} steps: a sequential run's phases are cut from its length (${saved.lr.steps} steps)`,
      );
    }
  }
  return merged;
}

/** The first leaf where `a` and `b` differ (JSON values: what a checkpoint saves), or null. */
function firstDifference(
  a: unknown,
  b: unknown,
  path = "",
): { path: string; saved: string; requested: string } | null {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null)) as unknown;
  const x = plain(a), y = plain(b);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null;
  if (isObject(x) && isObject(y) && Array.isArray(x) === Array.isArray(y) && !Array.isArray(x)) {
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const d = firstDifference(x[key], y[key], path === "" ? key : `${path}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  if (JSON.stringify(x) === JSON.stringify(y)) return null;
  const shown = (v: unknown) => v === null ? "none" : JSON.stringify(v);
  return { path: path || "options", saved: shown(x), requested: shown(y) };
}

/** Whether two shard directory paths name the same directory (as written, resolved). */
export function sameDataDir(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/** A fingerprint as shown in messages: its first 12 hex digits. */
function short(sha: string): string {
  return sha.slice(0, 12);
}
