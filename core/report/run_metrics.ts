/**
 * Reading a training run's `metrics.jsonl` (what `pipeline/training/trainer.ts` appends): `train`
 * records with loss, learning rate, gradient norm and throughput (distillation runs add `alpha`,
 * `ce` and `kd`), `eval` records with per-class validation loss and perplexity (and the `phase` of a
 * sequential run), and `diverged` records.
 *
 * @module
 */

/** One optimizer step. */
export interface TrainRecord {
  event: "train";
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  /** The class of the step's batch when all its rows are of one class (e.g. round-robin). */
  class?: string;
  /** Weight of the cross-entropy term (distillation runs). */
  alpha?: number;
  /** Cross-entropy part of the loss (distillation runs). */
  ce?: number;
  /** Knowledge-distillation part of the loss (distillation runs). */
  kd?: number;
}

/** One evaluation: validation loss and perplexity per class. */
export interface EvalRecord {
  event: "eval";
  step: number;
  /** The class a sequential run was training on at this step. */
  phase?: string;
  val: Record<string, { loss: number; ppl: number }>;
}

/** The records of one run, split by kind, in file order. */
export interface RunMetrics {
  train: TrainRecord[];
  eval: EvalRecord[];
  /** Step at which the loss became non-finite, if it did. */
  divergedAt: number | null;
}

/**
 * Parses the text of a `metrics.jsonl`.
 *
 * @param text The file's content.
 * @param name The file name, for error messages.
 * @returns The records by kind; unknown events are skipped.
 * @throws {SyntaxError} If a line is not JSON or a train/eval record lacks its fields; the message
 *   names the file and line.
 *
 * @example
 * ```ts
 * import { parseMetrics } from "./run_metrics.ts";
 * const m = parseMetrics(
 *   '{"event":"train","step":1,"loss":5,"lr":0.001,"grad_norm":1,"tokens":64,"tokens_per_s":10}\n' +
 *     '{"event":"eval","step":1,"val":{"en":{"loss":4.5,"ppl":90}}}\n',
 * );
 * console.assert(m.train.length === 1 && m.eval[0]!.val.en!.loss === 4.5);
 * ```
 */
export function parseMetrics(text: string, name = "metrics.jsonl"): RunMetrics {
  const out: RunMetrics = { train: [], eval: [], divergedAt: null };
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const where = `"${name}" line ${i + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      // A run killed mid-write leaves its last line cut short: skip only that one.
      if (i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === "")) continue;
      throw new SyntaxError(`Cannot read metrics ${where}: not JSON`);
    }
    if (record.event === "train") {
      for (const key of ["step", "loss", "lr"]) {
        if (typeof record[key] !== "number") {
          throw new SyntaxError(`Cannot read metrics ${where}: train record without "${key}"`);
        }
      }
      out.train.push(record as unknown as TrainRecord);
    } else if (record.event === "eval") {
      if (typeof record.step !== "number" || typeof record.val !== "object" || !record.val) {
        throw new SyntaxError(`Cannot read metrics ${where}: eval record without step or val`);
      }
      out.eval.push(record as unknown as EvalRecord);
    } else if (record.event === "diverged") {
      out.divergedAt = Number(record.step);
    }
  }
  return out;
}

/**
 * Reads and parses a `metrics.jsonl` file.
 *
 * @param path The file.
 * @returns Its records.
 * @throws {Error} If the file is missing or malformed; the message names it.
 */
export async function readMetrics(path: string): Promise<RunMetrics> {
  const text = await Deno.readTextFile(path).catch((error) => {
    throw new Error(
      `Cannot read metrics "${path}": ${
        error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message
      }`,
    );
  });
  return parseMetrics(text, path);
}

/** The classes evaluated in a run, in the order of its first eval record. */
export function evalClasses(m: RunMetrics): string[] {
  const seen = new Set<string>();
  for (const e of m.eval) for (const c of Object.keys(e.val)) seen.add(c);
  return [...seen];
}
