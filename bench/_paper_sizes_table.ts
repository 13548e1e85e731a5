/**
 * The table of `moe`'s paper-size benchmark (`bench/paper_sizes.ts`): the records of
 * `paper-sizes.json` and the README's table rendered from them.
 *
 * @module
 */
import type { MoEVariant } from "../models/moe.ts";

/** What one run measured (a record of `paper-sizes.json`). */
export interface PaperSizeRecord {
  name: string;
  /** The student's or each expert's shape. */
  model: { preset: string; layers: number; dModel: number; heads: number; contextLength: number };
  variant: MoEVariant | null;
  /** Parameters stored (a mixture: every expert, the shared embedding once). */
  parameters: number;
  /** Parameters one token runs through (a mixture: the routed expert, and the common one). */
  activeParameters: number;
  /** Optimizer steps run: the untimed first ones, then the timed ones. */
  steps: number;
  /** Steps before the timed ones (every step graph's first run). */
  warmUpSteps: number;
  /** Wall seconds of each optimizer step (the first one includes reading the teacher). */
  stepSeconds: number[];
  /** Mean of `stepSeconds` after the warm-up steps. */
  secondsPerStep: number;
  /** Peak resident set size of the whole run (teacher read, steps, evaluation, checkpoint). */
  peakRssMB: number;
  /** Wall seconds of the whole child process. */
  wallSeconds: number;
  finalLoss: number;
}

/** `paper-sizes.json`. */
export interface PaperSizesReport {
  date: string;
  machine: { cpus: number; memoryGB: number; loadBefore: number[]; loadAfter: number[] };
  backend: string;
  threads: number;
  teacher: {
    preset: string;
    layers: number;
    dModel: number;
    heads: number;
    contextLength: number;
    vocabSize: number;
    parameters: number;
  };
  batch: number;
  seqLen: number;
  runs: PaperSizeRecord[];
}

/**
 * The README's table of a report: one row per run — its shape, parameters, seconds per step and
 * peak RSS — then the machine, teacher and load it was measured with.
 *
 * @example
 * ```ts
 * import { paperSizesTable } from "./_paper_sizes_table.ts";
 * const table = paperSizesTable({
 *   date: "2026-12-02", backend: "cpu", threads: 2, batch: 1, seqLen: 1024,
 *   machine: { cpus: 2, memoryGB: 23.4, loadBefore: [1, 1, 1], loadAfter: [2, 2, 2] },
 *   teacher: { preset: "paper-teacher", layers: 24, dModel: 1024, heads: 16, contextLength: 1024,
 *     vocabSize: 32000, parameters: 335e6 },
 *   runs: [],
 * });
 * console.assert(table.startsWith("| student |"));
 * ```
 */
export function paperSizesTable(r: PaperSizesReport): string {
  const millions = (n: number) => `${(n / 1e6).toFixed(1)} M`;
  const rows = r.runs.map((run) => {
    const m = run.model;
    const what = run.variant === null
      ? `\`${m.preset}\` student`
      : `${run.variant === "jeet" ? "JEET" : "MoE-CE"}, 4 × \`${m.preset}\``;
    const shape = `${m.layers} × d ${m.dModel}, ${m.heads} heads`;
    const params = `${millions(run.parameters)} (${millions(run.activeParameters)} per token)`;
    const rss = `${(run.peakRssMB / 1024).toFixed(1)} GB`;
    const fastest = Math.min(...run.stepSeconds.slice(run.warmUpSteps));
    const time = `${run.secondsPerStep.toFixed(1)} s (${fastest.toFixed(1)} s)`;
    return `| ${what} | ${shape} | ${params} | ${time} | ${rss} |`;
  });
  const t = r.teacher, m = r.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" / ");
  const timed = [...new Set(r.runs.map((run) => run.steps - run.warmUpSteps))].join(" or ");
  const notes = [
    `Teacher \`${t.preset}\`: ${t.layers} layers, d ${t.dModel}, ${t.heads} heads, ` +
    `ctx ${t.contextLength}, vocab ${t.vocabSize}, ${millions(t.parameters)} parameters, ` +
    "random weights read from a Hugging Face folder.",
    `Batch ${r.batch} × ${r.seqLen} tokens; loss α·CE + (1 − α)·KL (α ½, τ 1); seconds per ` +
    `step: the mean (and the fastest) of ${timed} steps after each step graph's first run; ` +
    `backend ${r.backend} on ${r.threads} threads.`,
    "Peak RSS: the whole run (teacher read, steps, evaluation, checkpoint).",
    `Machine: ${m.cpus} CPUs, ${m.memoryGB.toFixed(0)} GB; load average ${load(m.loadBefore)} ` +
    `before, ${load(m.loadAfter)} after (${r.date}).`,
  ];
  return [
    "| student | shape | parameters | seconds per step (fastest) | peak RSS |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows,
    "",
    notes.join(" "),
  ].join("\n");
}
