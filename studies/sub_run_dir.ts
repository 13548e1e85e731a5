/**
 * A sub-run's directory: where it lives, the completion marker written atomically after success
 * (`done.json`: a sub-run with it is never recomputed), and the log of attempts (`attempts.json`:
 * the status and seconds of each invocation that worked on it).
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/files/mod.ts";

/** One invocation's work on a sub-run. */
export interface Attempt {
  status: "done" | "failed" | "interrupted";
  seconds: number;
  /** The last step it logged. */
  step: number;
  error?: string;
}

/**
 * The directory of sub-run `name` with seed `seed` under the experiment directory `out`.
 *
 * @example
 * ```ts
 * import { subRunDir } from "./sub_run_dir.ts";
 * console.assert(subRunDir("exp", "balanced", 2) === "exp/runs/balanced/seed-2");
 * ```
 */
export function subRunDir(out: string, name: string, seed: number): string {
  return join(out, "runs", name, `seed-${seed}`);
}

/** Whether the sub-run in `dir` finished (its marker exists). */
export async function isDone(dir: string): Promise<boolean> {
  return await Deno.stat(join(dir, "done.json")).then((s) => s.isFile, () => false);
}

/** Whether an earlier attempt left anything in `dir`. */
export async function wasStarted(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return false;
}

/** The attempts logged in `dir` (none if it never ran). */
export async function readAttempts(dir: string): Promise<Attempt[]> {
  const text = await Deno.readTextFile(join(dir, "attempts.json")).catch(() => "[]");
  return JSON.parse(text) as Attempt[];
}

/**
 * Logs an attempt; when it finished the sub-run, writes the completion marker after the log (so a
 * crash between the two leaves the sub-run unfinished, never falsely finished).
 *
 * @param dir The sub-run directory.
 * @param attempt What this invocation did.
 * @returns The seconds of all attempts together.
 */
export async function recordAttempt(dir: string, attempt: Attempt): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  const attempts = [...(await readAttempts(dir)), attempt];
  await writeFileAtomic(join(dir, "attempts.json"), JSON.stringify(attempts, null, 2) + "\n");
  const seconds = attempts.reduce((s, a) => s + a.seconds, 0);
  if (attempt.status === "done") {
    await writeFileAtomic(join(dir, "done.json"), JSON.stringify({ seconds }) + "\n");
  }
  return seconds;
}
