/**
 * Experiments as commands (issue #9): named sub-runs repeated over seeds, each in its own
 * directory with a completion marker so finished work is never redone and failed or interrupted
 * work is continued, and a report (`report.md`, `report.json`, plots as SVG and PNG).
 *
 * The studies layer sits on the pipeline (it trains, distils and evaluates through
 * `pipeline/`) and below the command line: one folder per study (`alpha/`, `distillation/`,
 * `forgetting/`, `loss_schedule/`, `moe_variants/`), with the runner, the sub-run bookkeeping and
 * the shared report pieces at this level.
 *
 * @example
 * ```ts
 * import { phaseEnds, SCALES } from "./mod.ts";
 * console.assert(SCALES.includes("tiny") && phaseEnds(8, 4).join() === "2,4,6,8");
 * ```
 *
 * @module
 */
export * from "./experiment.ts";
export * from "./sub_run_dir.ts";
export * from "./run_experiment.ts";
export * from "./sub_run_process.ts";
export * from "./experiment_report.ts";
export * from "./train_job.ts";
export * from "./teacher_job.ts";
export * from "./run_options.ts";
export * from "./forgetting/forgetting_params.ts";
export * from "./forgetting/forgetting_analysis.ts";
export * from "./forgetting/forgetting_report.ts";
export * from "./forgetting/forgetting.ts";
export * from "./scale_preset.ts";
export * from "./distillation/distill_params.ts";
export * from "./distillation/distill_jobs.ts";
export * from "./distillation/distill_report.ts";
export * from "./distillation/distill_comparison.ts";
export * from "./statistics_section.ts";
export * from "./alpha/alpha.ts";
export * from "./loss_schedule/loss_schedule.ts";
export * from "./moe_variants/moe_variants_params.ts";
export * from "./moe_variants/moe_variants_size.ts";
export * from "./moe_variants/moe_variants_rows.ts";
export * from "./moe_variants/moe_variants_report.ts";
export * from "./moe_variants/moe_variants.ts";
export * from "./study_registry.ts";
export * from "./rewrite_report.ts";
export * from "./claims_table.ts";
