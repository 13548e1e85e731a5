/**
 * The jointly trained Mixtures of Experts of arXiv 2407.19610 §3, composed from the GPT-2 of
 * `gpt.ts`:
 *
 * - **JEET** (Joint Expert Embedding Training): one shared token embedding `wte` and one shared
 *   LM head — `wte` itself (tied, the default) or, with `model.head: "untied"`, a separate
 *   `lm_head` table: the paper's head without its bias, which GPT-2's `lm_head` cannot hold
 *   (an exported expert must score in `transformers` as it does here) — and, per class, its own
 *   stack: position table, blocks and final LayerNorm. A class's batch runs through that class's
 *   stack only, so only it (and the shared parts) gets gradients.
 * - **MoE-CE** (MoE with Common Expert): JEET plus a `common` stack that sees every input; the
 *   routed and the common final hidden states are averaged (½ each) before the head.
 *
 * Parameter names: the shared `wte` (and `lm_head`), and `<member>.<gpt name>` for every stack
 * (`en.wpe`, `fr.h0.attn.qkv.w`, `common.lnf.scale`, …). So one state store holds the whole MoE
 * and each class's training graph binds the part it uses.
 *
 * @module
 */
import {
  add,
  cast,
  encode,
  gatherElements,
  Graph,
  greater,
  logSoftmax,
  mul,
  reshape,
  slice,
  type Tensor,
  unsqueeze,
  where,
} from "../core/graph/mod.ts";
import { crossEntropy } from "../core/losses/mod.ts";
import {
  declareGPTParams,
  type DeclareOptions,
  type GPTConfig,
  gptHidden,
  gptParamSpecs,
  headWeight,
  initGPT,
  lmHead,
  type ParamLookup,
} from "./gpt.ts";
import {
  commonWeights,
  hasCommonStack,
  type MoEVariant,
  SHARED_PARTS,
} from "./moe_variant_specs.ts";

export { MOE_VARIANTS, type MoEVariant } from "./moe_variant_specs.ts";

/** Name of the stack every input goes through in MoE-CE. */
export const COMMON = "common";

/** Shape of a jointly trained MoE. */
export interface MoEConfig {
  /** Every stack has this shape; `wte` (and an untied `lm_head`) is shared. */
  model: GPTConfig;
  /** One expert stack per class, in router order. */
  classes: string[];
  /** A jointly trained variant; what it is made of is its entry in `MOE_VARIANT_SPECS`. */
  variant: MoEVariant;
}

/** The untied head's GPT parameter (`gptParamSpecs` of a `head: "untied"` model). */
const LM_HEAD = "lm_head";

/** Names that cannot be class names (they would collide with parameter prefixes). */
const RESERVED = new Set([COMMON, "teacher", "wte", LM_HEAD]);

/**
 * Checks a config: at least one class, unique names, none reserved, no dots.
 *
 * @throws {RangeError} Naming the offending class.
 */
export function checkMoEConfig(cfg: MoEConfig): void {
  if (cfg.classes.length === 0) throw new RangeError("Invalid MoE: it has no classes");
  const seen = new Set<string>();
  for (const c of cfg.classes) {
    if (RESERVED.has(c) || c.includes(".") || c === "" || seen.has(c)) {
      throw new RangeError(
        `Invalid MoE class "${c}": class names must be unique, non-empty, without dots, and not ${
          [...RESERVED].join(", ")
        }`,
      );
    }
    seen.add(c);
  }
}

/**
 * The stacks of a MoE: the classes, then `common` when the variant has a common stack (MoE-CE).
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS } from "./gpt.ts";
 * import { moeMembers } from "./moe.ts";
 * const cfg = { model: GPT_CONFIGS.tiny, classes: ["en", "fr"], variant: "moe-ce" as const };
 * console.assert(moeMembers(cfg).join() === "en,fr,common");
 * ```
 */
export function moeMembers(cfg: MoEConfig): string[] {
  return hasCommonStack(cfg.variant) ? [...cfg.classes, COMMON] : [...cfg.classes];
}

/**
 * Whether a GPT parameter is one every stack shares: the token table `wte` and the untied head
 * `lm_head` (the tied head is `wte` itself).
 *
 * @example
 * ```ts
 * import { isSharedParam } from "./moe.ts";
 * console.assert(isSharedParam("wte") && isSharedParam("lm_head") && !isSharedParam("wpe"));
 * ```
 */
export function isSharedParam(name: string): boolean {
  return (SHARED_PARTS as readonly string[]).includes(name);
}

/** The MoE parameter name of a stack's GPT parameter (shared ones as they are, the rest prefixed). */
export function moeParamName(member: string, name: string): string {
  return isSharedParam(name) ? name : `${member}.${name}`;
}

/**
 * Initial MoE parameters: the shared parts from GPT-2 initialization with `seed`, each stack
 * from `seed + 1 + i` (so stacks start different).
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS } from "./gpt.ts";
 * import { initMoE } from "./moe.ts";
 * const model = { ...GPT_CONFIGS.tiny, head: "untied" as const };
 * const p = initMoE({ model, classes: ["en", "fr"], variant: "jeet" }, 1);
 * console.assert(p.has("lm_head") && !p.has("en.lm_head") && p.has("fr.wpe"));
 * ```
 */
export function initMoE(cfg: MoEConfig, seed: number): Map<string, Float32Array> {
  checkMoEConfig(cfg);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of initGPT(cfg.model, seed)) if (isSharedParam(name)) out.set(name, v);
  moeMembers(cfg).forEach((m, i) => {
    for (const [name, v] of initGPT(cfg.model, seed + 1 + i)) {
      if (!isSharedParam(name)) out.set(moeParamName(m, name), v);
    }
  });
  return out;
}

/**
 * One stack of MoE parameters as a standalone GPT's (unprefixed names, the shared `wte` and
 * untied `lm_head` folded in).
 *
 * @param values MoE parameters by MoE name.
 * @param member A class or `common`.
 * @throws {RangeError} If a parameter of the stack is missing.
 */
export function memberValues(
  model: GPTConfig,
  values: ReadonlyMap<string, Float32Array>,
  member: string,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of gptParamSpecs(model)) {
    const v = values.get(moeParamName(member, s.name));
    if (!v) {
      throw new RangeError(
        `Cannot extract "${member}": no parameter "${moeParamName(member, s.name)}"`,
      );
    }
    out.set(s.name, v);
  }
  return out;
}

/** Declares the shared parts (`wte`, an untied `lm_head`) once, unprefixed. */
function declareShared(
  g: Graph,
  model: GPTConfig,
  values: ReadonlyMap<string, Float32Array>,
): ParamLookup {
  return declareGPTParams(g, model, { values, only: isSharedParam });
}

/** Declares one stack's own parameters and returns its GPT lookup (the shared parts from `shared`). */
function declareStack(
  g: Graph,
  model: GPTConfig,
  values: ReadonlyMap<string, Float32Array>,
  prefix: string,
  shared: ParamLookup,
  opts: Pick<DeclareOptions, "frozen"> = {},
): ParamLookup {
  const p = declareGPTParams(g, model, {
    values,
    prefix,
    ...(opts.frozen ? { frozen: opts.frozen } : {}),
    only: (n: string) => !isSharedParam(n),
  });
  return (name) => isSharedParam(name) ? shared(name) : p(name);
}

/**
 * Final hidden states averaged over several stacks that share `wte` (and the head): `Σᵢ wᵢ · hᵢ` with equal
 * weights `1/n` unless `weights` (a `[n]` tensor) is given.
 *
 * @param stacks The lookups of each stack.
 * @returns `[B·T, C]`.
 */
export function meanHidden(
  g: Graph,
  model: GPTConfig,
  tokens: Tensor,
  stacks: readonly ParamLookup[],
  weights: readonly (Tensor | number)[] = stacks.map(() => 1 / stacks.length),
): Tensor {
  let sum: Tensor | null = null;
  stacks.forEach((p, i) => {
    const h = gptHidden(g, model, tokens, p);
    const w = mul(h, weights[i]!); // [B·T, C] · wᵢ
    sum = sum ? add(sum, w) : w;
  });
  if (!sum) throw new RangeError("Cannot average hidden states of no stack");
  return sum;
}

/**
 * Declares what class `cls`'s batches touch — the shared parts, the class's stack and (MoE-CE)
 * the common stack, under their MoE names — and returns the logits `[B·T, V]`.
 */
export function moeClassLogits(
  g: Graph,
  cfg: MoEConfig,
  cls: string,
  tokens: Tensor,
  values: ReadonlyMap<string, Float32Array>,
): Tensor {
  if (!cfg.classes.includes(cls)) {
    throw new RangeError(
      `Cannot build the MoE for class "${cls}": it has ${cfg.classes.join(", ")}`,
    );
  }
  const shared = declareShared(g, cfg.model, memberValues(cfg.model, values, cls));
  const common = hasCommonStack(cfg.variant);
  const members = common ? [cls, COMMON] : [cls];
  const stacks = members.map((m) =>
    declareStack(g, cfg.model, memberValues(cfg.model, values, m), `${m}.`, shared)
  );
  const weights = common ? commonWeights(cfg.variant) : [1]; // routed, common
  const head = headWeight(cfg.model, shared); // `wte` or `lm_head`, [V, C]
  return lmHead(meanHidden(g, cfg.model, tokens, stacks, weights), head); // [B·T, C] · headᵀ → [B·T, V]
}

/**
 * The training objective of class `cls`'s batches: masked next-token cross-entropy of the MoE
 * output. Inputs `tokens`, `targets` `[B, T]` int64.
 *
 * @example
 * ```ts
 * import { Graph } from "../core/graph/mod.ts";
 * import { GPT_CONFIGS } from "./gpt.ts";
 * import { initMoE, moeClassLoss } from "./moe.ts";
 * const cfg = { model: GPT_CONFIGS.tiny, classes: ["en", "fr"], variant: "moe-ce" as const };
 * const g = new Graph("en");
 * moeClassLoss(g, cfg, "en", { batch: 1, seqLen: 8 }, initMoE(cfg, 1));
 * const names = g.parameters.map((p) => p.tensor.name);
 * console.assert(names.includes("wte") && names.includes("common.wpe") && !names.includes("fr.wpe"));
 * ```
 */
export function moeClassLoss(
  g: Graph,
  cfg: MoEConfig,
  cls: string,
  geometry: { batch: number; seqLen: number },
  values: ReadonlyMap<string, Float32Array>,
): Tensor {
  const { batch: B, seqLen: T } = geometry;
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = g.input("targets", "int64", [B, T]);
  const logits = moeClassLogits(g, cfg, cls, tokens, values); // [B·T, V]
  return crossEntropy(logits, reshape(targets, [B * T])); // [B, T] → [B·T]
}

/**
 * The whole MoE as one inference graph any ONNX Runtime can run: inputs `tokens` `[1, ctx]`
 * int64 and `weights` `[K]` float32 (one per class: one-hot = hard routing, router
 * probabilities = soft routing), output `logits` `[1, ctx, V]` from
 * `head(Σₖ wₖ·hₖ)` (JEET) or, with a common stack, `head(½·Σₖ wₖ·hₖ + ½·h_common)` (MoE-CE:
 * its spec's `commonShare`). It runs every stack;
 * routed inference runs the per-expert files of a bundle instead.
 */
export function buildMoEInference(
  cfg: MoEConfig,
  values: ReadonlyMap<string, Float32Array>,
): Uint8Array {
  const g = new Graph("moe.infer");
  const T = cfg.model.contextLength, K = cfg.classes.length;
  const tokens = g.input("tokens", "int64", [1, T]);
  const weights = g.input("weights", "float32", [K]);
  const shared = declareShared(g, cfg.model, values);
  const members = moeMembers(cfg);
  const stacks = members.map((m) =>
    declareStack(g, cfg.model, memberValues(cfg.model, values, m), `${m}.`, shared)
  );
  const common = hasCommonStack(cfg.variant);
  const [routedShare, commonShare] = commonWeights(cfg.variant);
  const ws = cfg.classes.map((_, k) => {
    const wk = reshape(slice(weights, [k], [k + 1], [0]), []); // [K] → [1] → []
    return common ? mul(wk, routedShare) : wk; // [] · routed share
  });
  if (common) ws.push(g.scalar(commonShare));
  const logits = lmHead(
    meanHidden(g, cfg.model, tokens, stacks, ws),
    headWeight(cfg.model, shared),
  ); // [T, V]
  g.output(reshape(logits, [1, T, cfg.model.vocabSize]), "logits"); // [T, V] → [1, T, V]
  const named = new Map<string, Float32Array>();
  for (const p of g.parameters) named.set(p.tensor.name, values.get(p.tensor.name)!);
  return encode(g, { parameters: "initializers", values: named });
}

/**
 * Per-token losses of standalone GPTs on a batch, for evaluation: inputs `tokens`, `targets`
 * `[B, T]` int64 (target −1 = not counted), output `nll` `[B, T]` = −log p(target) (0 where not
 * counted). With two parameter sets the final hidden states are averaged (½ each) and the head
 * is the first set's (`wte`, or its untied `lm_head`: MoE-CE's rule; both must share it).
 *
 * @param parts One or two parameter sets by GPT name (baked in as initializers).
 */
export function buildTokenLoss(
  model: GPTConfig,
  parts: readonly ReadonlyMap<string, Float32Array>[],
  geometry: { batch: number; seqLen: number },
): Uint8Array {
  const { batch: B, seqLen: T } = geometry;
  const g = new Graph("gpt.nll");
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = g.input("targets", "int64", [B, T]);
  const shared = declareShared(g, model, parts[0]!);
  const stacks = parts.map((v, i) => declareStack(g, model, v, `m${i}.`, shared));
  const head = headWeight(model, shared); // `wte`, or the first set's untied `lm_head`
  const logits = lmHead(meanHidden(g, model, tokens, stacks), head); // [B·T, V]
  const flat = reshape(targets, [B * T]); // [B, T] → [B·T]
  const counted = greater(flat, -1); // [B·T] bool
  const safe = where(counted, flat, g.scalar(0, "int64")); // padding reads column 0, masked below
  const logp = logSoftmax(logits, -1); // [B·T, V]
  const picked = gatherElements(logp, unsqueeze(safe, [1]), 1); // [B·T, 1] log p(target)
  const nll = mul(mul(reshape(picked, [B * T]), cast(counted, "float32")), -1); // [B·T, 1] → [B·T]
  g.output(reshape(nll, [B, T]), "nll"); // [B·T] → [B, T]
  const named = new Map<string, Float32Array>();
  for (const [name, data] of parts[0]!) if (isSharedParam(name)) named.set(name, data);
  parts.forEach((v, i) => {
    for (const [name, data] of v) if (!isSharedParam(name)) named.set(`m${i}.${name}`, data);
  });
  return encode(g, { parameters: "initializers", values: named });
}
