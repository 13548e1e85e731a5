/**
 * Every experiment by name, for what has only `experiment.json` to go on: the child process
 * that runs one sub-run (`sub_run_process.ts`), and rewriting a report from finished sub-runs.
 *
 * @module
 */
import { join } from "node:path";
import { alphaExperiment } from "./alpha/alpha.ts";
import type { Experiment } from "./experiment.ts";
import { forgettingExperiment } from "./forgetting/forgetting.ts";
import { lossScheduleExperiment } from "./loss_schedule/loss_schedule.ts";
import { moeVariantsExperiment } from "./moe_variants/moe_variants.ts";

/**
 * The experiments, by `moe experiment NAME`. Their parameters are what `experiment.json` holds
 * (written by the runner from the same experiment), hence `unknown` here.
 */
export const EXPERIMENTS: Readonly<Record<string, Experiment<unknown>>> = Object.fromEntries(
  [forgettingExperiment, alphaExperiment, lossScheduleExperiment, moeVariantsExperiment].map((
    e,
  ) => [e.name, e as Experiment<unknown>]),
);

/** What `experiment.json` holds. */
export interface SavedExperiment {
  experiment: Experiment<unknown>;
  params: unknown;
}

/**
 * Reads `OUT/experiment.json` and finds its experiment.
 *
 * @param out The experiment directory.
 * @throws {Error} When the file is missing or names no known experiment; the message names it.
 */
export async function readExperiment(out: string): Promise<SavedExperiment> {
  const path = join(out, "experiment.json");
  let saved: { experiment?: unknown; params?: unknown };
  try {
    saved = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`Cannot read "${path}": ${(error as Error).message}`);
  }
  const experiment = typeof saved.experiment === "string"
    ? EXPERIMENTS[saved.experiment]
    : undefined;
  if (!experiment) {
    throw new Error(
      `Cannot read "${path}": experiment "${saved.experiment}" is none of ${
        Object.keys(EXPERIMENTS).join(", ")
      }`,
    );
  }
  return { experiment, params: saved.params };
}
