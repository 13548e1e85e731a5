/**
 * The run's `metrics.jsonl`, one JSON record per line: started empty, appended to after every
 * step and evaluation, cut back to the checkpoint's step on resume, and read back for what a
 * resumed run last reported.
 *
 * @module
 */
import { nameOsErrors, writeFileAtomic } from "../../core/files/mod.ts";
import type { ValReport } from "./validation.ts";

/**
 * Starts the metrics of a run: empty for a new run (`resumedStep` null), or the records up to the
 * resumed checkpoint's step.
 */
export async function startMetrics(path: string, resumedStep: number | null): Promise<void> {
  if (resumedStep !== null) {
    await nameOsErrors("write", path, () => truncateMetrics(path, resumedStep));
  } else {
    await nameOsErrors("write", path, () => Deno.writeTextFile(path, ""));
  }
}

/** Appends one record as a line. */
export function appendMetric(path: string, record: Record<string, unknown>): Promise<void> {
  return nameOsErrors(
    "append to",
    path,
    () => Deno.writeTextFile(path, JSON.stringify(record) + "\n", { append: true }),
  );
}

/** The last train loss and validation report logged in `metrics.jsonl` (NaN and {} if none). */
export async function lastReported(path: string): Promise<{ val: ValReport; finalLoss: number }> {
  let val: ValReport = {}, finalLoss = NaN;
  const text = await Deno.readTextFile(path).catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as { event?: string; loss?: number; val?: ValReport };
    if (record.event === "train" && typeof record.loss === "number") finalLoss = record.loss;
    if (record.event === "eval" && record.val) val = record.val;
  }
  return { val, finalLoss };
}

/** Drops metric records after `step` (a killed run may have logged steps past its checkpoint). */
async function truncateMetrics(path: string, step: number): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const kept = text.split("\n").filter((line) => {
    if (line.trim() === "") return false;
    try {
      return (JSON.parse(line) as { step?: number }).step! <= step;
    } catch {
      return false; // a line cut short by the kill
    }
  });
  // Atomically: a kill while rewriting must not lose the records before the checkpoint.
  await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
}
