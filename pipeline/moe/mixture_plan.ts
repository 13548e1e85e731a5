/**
 * Which stacks of a bundle answer a sequence, with what weights: the plan that `moe generate`
 * runs and `moe eval` scores.
 *
 * - `route` (hard routing, the paper's): the routed expert alone; for a MoE-CE bundle, the
 *   routed expert and the common expert combined by the bundle's rule and weights (½ each,
 *   final hidden states averaged before the shared head: paper §3, MoE-CE).
 * - `router` (soft routing, beyond the paper): every expert weighted by the router's
 *   probabilities for the sequence, `wₖ = p(k | text)`; for MoE-CE scaled by the routed share
 *   (½) with the common expert at its share (½). Experts that share their embedding (JEET,
 *   MoE-CE: checked on the values) mix final hidden states, `head(Σ wₖ·hₖ)`; experts with
 *   their own embeddings (PLE) mix next-token distributions, `p = Σ wₖ·pₖ`, because their
 *   hidden states live in different spaces.
 *
 * @module
 */
import { COMMON } from "../../models/moe.ts";
import { variantSpec } from "../../models/moe_variant_specs.ts";
import { type MixRule, type Mixture, sharesEmbedding } from "../../models/moe_mixture.ts";
import type { Bundle, BundleModel } from "./bundle.ts";

/** How a bundle mixes its experts for a sequence: hard routing or router-weighted. */
export type MixMode = "route" | "router";

/** The values `moe eval --mix` accepts. */
export const MIX_MODES: readonly MixMode[] = ["route", "router"];

/**
 * How `moe generate` mixes: `MixMode`, or `posterior` (every expert weighted by the posterior
 * `p(k | x)` of likelihood routing: the experts score the prompt before the mixture opens).
 */
export type GenerateMixMode = MixMode | "posterior";

/** The values `moe generate --mix` accepts (eval's, and `posterior`). */
export const GENERATE_MIX_MODES: readonly GenerateMixMode[] = [...MIX_MODES, "posterior"];

/** The stacks that answer a sequence and how they combine. */
export interface BundleMix {
  /** Stack (a class or `common`) → weight in (0, 1]; the weights sum to 1. */
  weights: Record<string, number>;
  /** How the stacks combine; null for one stack alone. */
  rule: MixRule | null;
}

/**
 * Whether hard routing adds the common expert: bundles of a variant whose common expert joins
 * the routed one (`commonJoinsRouted`: MoE-CE, whose experts were trained to answer together
 * with it, `moe eval`'s `routed+common`). A PLE bundle's common expert is a fallback for
 * `unknown` inputs.
 */
export function combinesCommon(bundle: Bundle): boolean {
  return variantSpec(bundle.manifest.variant).commonJoinsRouted && bundle.common !== null &&
    bundle.manifest.combine !== null;
}

/**
 * Hard routing to `expert`: alone, or with the common expert when `withCommon` (default: the
 * bundle {@linkcode combinesCommon}) at the bundle's `combine` weights.
 *
 * @param expert A class of the bundle or `common`.
 * @throws {RangeError} If the bundle has no such expert.
 */
export function routedMix(
  bundle: Bundle,
  expert: string,
  withCommon: boolean = combinesCommon(bundle),
): BundleMix {
  bundleMember(bundle, expert);
  const combine = bundle.manifest.combine;
  if (expert === COMMON || !withCommon || !bundle.common || !combine) {
    return { weights: { [expert]: 1 }, rule: null };
  }
  const [routed, common] = combine.weights, sum = routed + common;
  return { weights: { [expert]: routed / sum, [COMMON]: common / sum }, rule: combine.rule };
}

/**
 * Soft routing: every class weighted by `probabilities` (normalized; zeros left out), plus the
 * common expert at its share for MoE-CE (see the module doc).
 *
 * @param probabilities The router's probability of each class for the sequence.
 * @throws {RangeError} If no class has a positive probability.
 *
 * @example
 * ```ts ignore
 * const mix = softMix(bundle, { en: 0.5, fr: 0.3, de: 0.2, py: 0 }); // a MoE-CE bundle
 * // { weights: { en: 0.25, fr: 0.15, de: 0.1, common: 0.5 }, rule: "hidden-mean" }
 * ```
 */
export function softMix(bundle: Bundle, probabilities: Record<string, number>): BundleMix {
  const classes = bundle.manifest.classes;
  const total = classes.reduce((s, c) => s + Math.max(0, probabilities[c] ?? 0), 0);
  if (!(total > 0)) {
    throw new RangeError(`Cannot soft-route: no class of ${classes.join(", ")} has a probability`);
  }
  const combine = combinesCommon(bundle) ? bundle.manifest.combine! : null;
  const share = combine ? combine.weights[0] / (combine.weights[0] + combine.weights[1]) : 1;
  const weights: Record<string, number> = {};
  for (const c of classes) {
    const p = Math.max(0, probabilities[c] ?? 0) / total;
    if (p > 0) weights[c] = share * p;
  }
  if (combine) weights[COMMON] = 1 - share;
  const stacks = Object.keys(weights).length;
  return { weights, rule: stacks === 1 ? null : softRule(bundle) };
}

/**
 * The rule of soft routing: the bundle's `combine` rule when the common expert joins (MoE-CE),
 * else `hidden-mean` if every expert shares one embedding, else `probability-mean`.
 */
export function softRule(bundle: Bundle): MixRule {
  if (combinesCommon(bundle)) return bundle.manifest.combine!.rule;
  return sharesEmbedding([...bundle.experts.values()]) ? "hidden-mean" : "probability-mean";
}

/**
 * The stacks of a plan with their parameters, for `openMixtureDecoder` or a loss graph.
 *
 * @example
 * ```ts ignore
 * const decoder = await openMixtureDecoder(backend, bundleMixture(bundle, routedMix(bundle, "fr")));
 * ```
 */
export function bundleMixture(bundle: Bundle, mix: BundleMix): Mixture {
  const members = Object.entries(mix.weights).map(([name, weight]) => {
    const { config, values } = bundleMember(bundle, name);
    return { name, config, values, weight };
  });
  return { rule: mix.rule ?? "hidden-mean", members };
}

/** A bundle's class expert or common expert by name. */
export function bundleMember(bundle: Bundle, name: string): BundleModel {
  const found = name === COMMON ? bundle.common : bundle.experts.get(name);
  if (!found) {
    const names = [...bundle.experts.keys(), ...(bundle.common ? [COMMON] : [])];
    throw new RangeError(
      `Bundle "${bundle.dir}" has no expert "${name}" (it has ${names.join(", ")})`,
    );
  }
  return found;
}
