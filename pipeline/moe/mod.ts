/**
 * Mixtures of Experts: the bundle format (router + experts + common expert + tokenizer) and its
 * validated loading, assembling bundles from PLE experts or a jointly trained run, the JEET /
 * MoE-CE training runner and loop, and evaluation with per-sequence routing.
 *
 * @example
 * ```ts
 * import { mixLoss } from "./mod.ts";
 * // The equal mixture of two identical predictions is that prediction.
 * console.assert(Math.abs(mixLoss(1.5, 1.5) - 1.5) < 1e-12);
 * ```
 *
 * @module
 */
export * from "./bundle.ts";
export * from "./moe_checkpoint.ts";
export * from "./assemble.ts";
export * from "./moe_runner.ts";
export * from "./train_moe.ts";
export * from "./evaluate_bundle.ts";
export * from "./evaluate_documents.ts";
export * from "./routing_regret.ts";
export * from "./routing_rules.ts";
export * from "./eval_report.ts";
export * from "./token_losses.ts";
export * from "./mixture_loss.ts";
export * from "./evaluate_model.ts";
export * from "./score_text.ts";
export * from "./mixture_plan.ts";
export * from "./uniform_average.ts";
