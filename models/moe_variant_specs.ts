/**
 * The MoE variants of arXiv 2407.19610 §3 as one table: what each is made of and how its experts
 * answer together. Every layer that must agree on a variant (the MoE graphs, training, bundles,
 * assembly, inference, export, the studies) reads this table instead of testing the variant's
 * name, so a new variant is one entry here.
 *
 * - **PLE** (Pre-trained Language Experts): each expert distilled on its own (`moe distill`),
 *   one chosen per input by the router; a bundle may add a separately trained common expert as
 *   the fallback for inputs the router is unsure of.
 * - **JEET** (Joint Expert Embedding Training): one shared token embedding and LM head, one stack
 *   of blocks per class, trained jointly (`moe train-moe`).
 * - **MoE-CE** (MoE with Common Expert): JEET plus a common stack that sees every input; the
 *   routed and the common final hidden states are averaged (½ each) before the head.
 *
 * @example
 * ```ts
 * import { MOE_VARIANT_SPECS, MOE_VARIANTS } from "./moe_variant_specs.ts";
 * console.assert(MOE_VARIANTS.join() === "jeet,moe-ce");
 * console.assert(MOE_VARIANT_SPECS["moe-ce"].common === "always");
 * ```
 *
 * @module
 */

/** The GPT parameters the jointly trained variants share, stored once under their own name. */
export const SHARED_PARTS: readonly ("wte" | "lm_head")[] = ["wte", "lm_head"];

/** What a MoE variant is and how its experts answer together. */
export interface MoEVariantSpec {
  /** Its name in titles and reports: `PLE`, `JEET`, `MoE-CE`. */
  readonly title: string;
  /** What it is in a few words (run titles): `shared embedding, one stack per class`. */
  readonly summary: string;
  /**
   * How its experts are made: `separate` — each a GPT of its own run (`moe train` / `moe
   * distill`), assembled from checkpoint directories; `joint` — one `moe train-moe` run over one
   * state store, a class's batch updating its stack and the shared parts (a `MoEConfig`).
   */
  readonly training: "separate" | "joint";
  /**
   * The GPT parameters its experts share by construction (one copy: `wte`, and `lm_head` when
   * the head is untied); empty when every expert has its own.
   */
  readonly sharedParts: readonly ("wte" | "lm_head")[];
  /**
   * Its common expert: `none`; `optional` — a separately trained expert a bundle may carry, the
   * fallback for inputs the router is unsure of; `always` — a stack of the model that every
   * input goes through (trained with every class, so every bundle of it holds it).
   */
  readonly common: "none" | "optional" | "always";
  /**
   * Whether the common expert answers together with the routed one (hard and soft routing),
   * because the experts were trained to; otherwise it answers only the fallback inputs.
   */
  readonly commonJoinsRouted: boolean;
  /** The common expert's weight when it combines with a routed one (the routed gets the rest): ½. */
  readonly commonShare: number;
  /**
   * How a routed and the common expert combine: `hidden-mean` (final hidden states averaged
   * before the one head they share), or null — decided per bundle from the values:
   * `hidden-mean` when the experts happen to share `wte` and head, else `probability-mean`.
   */
  readonly combine: "hidden-mean" | "probability-mean" | null;
}

/** The variants, in the order of reports. */
export const MOE_VARIANT_SPECS = {
  "ple": {
    title: "PLE",
    summary: "one expert distilled per class",
    training: "separate",
    sharedParts: [],
    common: "optional",
    commonJoinsRouted: false,
    commonShare: 0.5,
    combine: null,
  },
  "jeet": {
    title: "JEET",
    summary: "shared embedding, one stack per class",
    training: "joint",
    sharedParts: SHARED_PARTS,
    common: "none",
    commonJoinsRouted: false,
    commonShare: 0.5,
    combine: "hidden-mean",
  },
  "moe-ce": {
    title: "MoE-CE",
    summary: "JEET + common stack",
    training: "joint",
    sharedParts: SHARED_PARTS,
    common: "always",
    commonJoinsRouted: true,
    commonShare: 0.5,
    combine: "hidden-mean",
  },
} as const satisfies Record<string, MoEVariantSpec>;

/** Any variant: what a bundle's experts came from (`ple`, `jeet`, `moe-ce`). */
export type VariantName = keyof typeof MOE_VARIANT_SPECS;

/** The jointly trained variants (`training: "joint"`): what a `MoEConfig` can be. */
export type MoEVariant = {
  [K in VariantName]: (typeof MOE_VARIANT_SPECS)[K]["training"] extends "joint" ? K : never;
}[VariantName];

/** Every variant, in table order (a non-empty tuple, as `z.enum` wants it). */
export const VARIANT_NAMES = Object.keys(MOE_VARIANT_SPECS) as [VariantName, ...VariantName[]];

/** The jointly trained variants, in table order: the values `--variant` accepts. */
export const MOE_VARIANTS: readonly MoEVariant[] = VARIANT_NAMES.filter(
  (v): v is MoEVariant => MOE_VARIANT_SPECS[v].training === "joint",
);

/**
 * The spec of a variant, widened to {@linkcode MoEVariantSpec} (so its fields read as their
 * types, not as one entry's literals).
 *
 * @example
 * ```ts
 * import { variantSpec } from "./moe_variant_specs.ts";
 * console.assert(variantSpec("jeet").common === "none");
 * ```
 */
export function variantSpec(variant: VariantName): MoEVariantSpec {
  return MOE_VARIANT_SPECS[variant];
}

/**
 * Whether a variant's model holds a common stack that every input goes through (and so its
 * members are the classes, then `common`).
 *
 * @example
 * ```ts
 * import { hasCommonStack } from "./moe_variant_specs.ts";
 * console.assert(hasCommonStack("moe-ce") && !hasCommonStack("jeet"));
 * ```
 */
export function hasCommonStack(variant: VariantName): boolean {
  return variantSpec(variant).common === "always";
}

/**
 * The weights of a routed and the common expert when they combine: `[1 − share, share]`.
 *
 * @example
 * ```ts
 * import { commonWeights } from "./moe_variant_specs.ts";
 * console.assert(commonWeights("moe-ce").join() === "0.5,0.5");
 * ```
 */
export function commonWeights(variant: VariantName): [number, number] {
  const share = variantSpec(variant).commonShare;
  return [1 - share, share];
}
