/**
 * Knowledge distillation: a teacher checkpoint (or its top-k logit cache) teaches a smaller
 * student, e.g. one per-language expert of a Mixture of Modular Experts. The losses live in
 * `core/losses` (`forwardKL`, `reverseKL`, `distillObjective`); this module holds the α rules,
 * the teacher, the cache, the step graphs and the run.
 *
 * @example
 * ```ts
 * import { AlphaController, parseAlpha } from "./mod.ts";
 * const alpha = new AlphaController(parseAlpha("0.5"), 100);
 * console.assert(alpha.alpha(1) === 0.5);
 * ```
 *
 * @module
 */
export * from "./alpha_schedule.ts";
export * from "./alternation.ts";
export * from "./teacher.ts";
export * from "./cache.ts";
export * from "./cache_build.ts";
export * from "./distill_runner.ts";
export * from "./distill_run.ts";
