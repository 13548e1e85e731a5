/**
 * Parameter counts of the MoE variants, from their configs.
 *
 * Counting rule: a GPT's parameters are its token table `wte` (also the tied LM head), position
 * table `wpe`, blocks and final LayerNorm (`gptParamSpecs`); a JEET / MoE-CE stack is the same
 * without `wte`, which the stacks share. **Total** = every parameter the variant stores (the
 * router, a separate TF-IDF model, is not counted). **Active per token** = the parameters of
 * the models one token's prediction runs through: the routed expert, plus the common stack when
 * it is used; tables are counted whole (the tied head reads all of `wte`).
 *
 * @module
 */
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";
import { isSharedParam } from "../../models/moe.ts";

/** Stored and per-token parameters of one variant. */
export interface VariantSize {
  total: number;
  active: number;
}

/**
 * Parameters of a GPT of `cfg`, or of one stack (all but the shared `wte` and untied `lm_head`)
 * with `stack`.
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * import { gptParameterCount } from "./moe_variants_size.ts";
 * // tiny: V 256 × C 64 + ctx 64 × 64 + 2 × (12·64² + 13·64) + 2·64
 * console.assert(gptParameterCount(GPT_CONFIGS.tiny) === 16384 + 4096 + 2 * 49984 + 128);
 * ```
 */
export function gptParameterCount(cfg: GPTConfig, stack = false): number {
  return gptParamSpecs(cfg)
    .filter((s) => !(stack && isSharedParam(s.name)))
    .reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Sizes of the study's variants (keys as in the evaluation rows) for `classes` experts of
 * shape `student` and a teacher of shape `teacher`.
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * import { variantSizes } from "./moe_variants_size.ts";
 * const s = variantSizes(GPT_CONFIGS.tiny, GPT_CONFIGS.tiny, 4);
 * console.assert(s["ple-routed"]!.total === 4 * s["ple-routed"]!.active);
 * ```
 */
export function variantSizes(
  student: GPTConfig,
  teacher: GPTConfig,
  classes: number,
): Record<string, VariantSize> {
  const gpt = gptParameterCount(student);
  const stack = gptParameterCount(student, true);
  const wte = gpt - stack;
  const ple = { total: classes * gpt, active: gpt };
  const jeet = { total: wte + classes * stack, active: gpt };
  const moeCE = { total: wte + (classes + 1) * stack, active: wte + 2 * stack };
  return {
    "teacher": { total: gptParameterCount(teacher), active: gptParameterCount(teacher) },
    "common": { total: gpt, active: gpt },
    "ple-routed": ple,
    "ple-oracle": ple,
    "jeet-routed": jeet,
    "jeet-oracle": jeet,
    "moe-ce-routed+common": moeCE,
    "moe-ce-oracle+common": moeCE,
    "moe-ce-routed": { total: moeCE.total, active: gpt },
    "moe-ce-common": { total: moeCE.total, active: gpt },
  };
}
