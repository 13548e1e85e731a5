/**
 * Mixtures of whole GPT stacks with fixed weights, the inference side of a MoE bundle: the
 * routed expert and the common expert of MoE-CE (½ each), or every expert weighted by the
 * router's probabilities (soft routing, beyond arXiv 2407.19610, which routes each sequence to
 * one expert).
 *
 * Two rules, chosen by what the stacks share:
 *
 * - `hidden-mean`: the stacks share the token embedding `wte` and the LM head (`wte` itself when
 *   tied, one `lm_head` when untied: JEET and MoE-CE by construction), so their final hidden
 *   states are mixed before the one head: `logits = head(Σᵢ wᵢ·hᵢ)` (paper §3, MoE-CE, with
 *   `wᵢ = ½`). The head is linear, so this equals `Σᵢ wᵢ·head(hᵢ)`.
 * - `probability-mean`: the stacks read different embeddings (PLE experts distilled apart), so
 *   hidden states live in different spaces and averaging them means nothing; the next-token
 *   distributions are mixed instead: `p = Σᵢ wᵢ·pᵢ`, and the graph returns `log p`.
 *
 * Graph names: every stack's parameters carry its name as prefix (`en.h0.ln1.scale`,
 * `common.wpe`); a shared `wte` (and untied `lm_head`) is one unprefixed `wte` (`lm_head`).
 *
 * @module
 */
import {
  add,
  exp,
  Graph,
  log,
  logSoftmax,
  max,
  mul,
  reshape,
  slice,
  softmaxCrossEntropy,
  sub,
  type Tensor,
} from "../core/graph/mod.ts";
import { encode } from "../core/graph/mod.ts";
import {
  declareGPTParams,
  type GPTConfig,
  gptHidden,
  gptParamSpecs,
  headWeight,
  lmHead,
  type ParamLookup,
} from "./gpt.ts";
import { isSharedParam } from "./moe.ts";

/** How the stacks of a mixture combine (the same names as a bundle's `combine.rule`). */
export type MixRule = "hidden-mean" | "probability-mean";

/** One stack of a mixture: a standalone GPT and its weight. */
export interface MixtureMember {
  /** A class or `common`: the prefix of its graph names (`en.past.0.k`, `en.wpe`). */
  name: string;
  config: GPTConfig;
  /** Parameters by GPT name (`wte`, `h0.ln1.scale`, …). */
  values: ReadonlyMap<string, Float32Array>;
  /** Its weight, in (0, 1]; the weights of a mixture sum to 1. */
  weight: number;
}

/** Stacks with positive weights summing to 1, and the rule that combines them. */
export interface Mixture {
  rule: MixRule;
  members: readonly MixtureMember[];
}

/**
 * Whether every stack reads the same token embedding and LM head: same width, same head kind,
 * and `wte` (and an untied `lm_head`) values equal element by element (JEET and MoE-CE stacks
 * hold copies of the shared ones).
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * import { sharesEmbedding } from "./moe_mixture.ts";
 * const cfg = GPT_CONFIGS.tiny;
 * const [a, b] = [initGPT(cfg, 1), initGPT(cfg, 2)];
 * console.assert(sharesEmbedding([{ config: cfg, values: a }, { config: cfg, values: a }]));
 * console.assert(!sharesEmbedding([{ config: cfg, values: a }, { config: cfg, values: b }]));
 * ```
 */
export function sharesEmbedding(
  stacks: readonly Pick<MixtureMember, "config" | "values">[],
): boolean {
  const first = stacks[0];
  if (!first?.values.has("wte")) return false;
  const same = (a: Float32Array | undefined, b: Float32Array | undefined) =>
    a !== undefined && b !== undefined && a.length === b.length &&
    (a === b || a.every((v, i) => v === b[i]));
  const head = first.config.head ?? "tied";
  const shared = gptParamSpecs(first.config).map((s) => s.name).filter(isSharedParam);
  return stacks.every(({ config, values }) =>
    config.dModel === first.config.dModel && (config.head ?? "tied") === head &&
    shared.every((n) => same(values.get(n), first.values.get(n)))
  );
}

/**
 * Checks a mixture: at least one stack, unique names without dots, weights in (0, 1] summing to
 * 1, one vocabulary, and for `hidden-mean` one shared embedding.
 *
 * @throws {RangeError} Naming the stack and the problem.
 */
export function checkMixture(mixture: Mixture): void {
  const { members, rule } = mixture;
  const fail = (why: string): never => {
    throw new RangeError(`Invalid mixture of ${members.map((m) => m.name).join(", ")}: ${why}`);
  };
  if (members.length === 0) fail("it has no stacks");
  const names = new Set(members.map((m) => m.name));
  if (names.size !== members.length || members.some((m) => m.name.includes("."))) {
    fail("stack names must be unique and without dots");
  }
  for (const m of members) {
    if (!(m.weight > 0 && m.weight <= 1)) fail(`"${m.name}" has weight ${m.weight}`);
    if (m.config.vocabSize !== members[0]!.config.vocabSize) {
      fail(`"${m.name}" has vocab size ${m.config.vocabSize}, not ${members[0]!.config.vocabSize}`);
    }
  }
  const sum = members.reduce((s, m) => s + m.weight, 0);
  if (Math.abs(sum - 1) > 1e-6) fail(`weights sum to ${sum}, not 1`);
  if (rule === "hidden-mean" && !sharesEmbedding(members)) {
    fail("hidden-mean needs stacks of one width sharing one wte and head (use probability-mean)");
  }
}

/** The context a mixture can hold: its smallest stack's. */
export function mixtureContext(mixture: Mixture): number {
  return Math.min(...mixture.members.map((m) => m.config.contextLength));
}

/**
 * Declares every stack's parameters (under `<name>.`, the shared `wte` once for `hidden-mean`).
 *
 * @returns One lookup per member, in order.
 */
export function declareMixture(g: Graph, mixture: Mixture): ParamLookup[] {
  const shared = mixture.rule === "hidden-mean"
    ? declareGPTParams(g, mixture.members[0]!.config, {
      values: mixture.members[0]!.values,
      only: isSharedParam,
    })
    : null;
  return mixture.members.map((m) => {
    const own = declareGPTParams(g, m.config, {
      values: m.values,
      prefix: `${m.name}.`,
      ...(shared ? { only: (n: string) => !isSharedParam(n) } : {}),
    });
    return (name: string) => (isSharedParam(name) && shared ? shared(name) : own(name));
  });
}

/**
 * The mixture's next-token scores from each stack's final hidden rows `[N, C]`: logits of
 * `Σ wᵢ·hᵢ` (`hidden-mean`), or `log Σ wᵢ·softmax(head(hᵢ))` (`probability-mean`, computed as
 * `m + log Σ exp(log wᵢ + log pᵢ − m)` with `m` the elementwise maximum, so no term underflows
 * to `log 0`). A single stack gives its own logits unchanged.
 *
 * @param hidden One `[N, C]` per member, in order.
 * @returns `[N, V]`.
 */
export function mixtureLogits(
  mixture: Mixture,
  params: readonly ParamLookup[],
  hidden: readonly Tensor[],
): Tensor {
  const { members, rule } = mixture;
  const head = (i: number) => headWeight(members[i]!.config, params[i]!); // [V, C]
  if (members.length === 1) return lmHead(hidden[0]!, head(0)); // [N, C] → [N, V]
  if (rule === "hidden-mean") {
    const mixed = hidden.map((h, i) => mul(h, members[i]!.weight)).reduce((a, b) => add(a, b));
    return lmHead(mixed, head(0)); // [N, C] · headᵀ → [N, V]
  }
  const terms = hidden.map((h, i) =>
    add(logSoftmax(lmHead(h, head(i)), -1), Math.log(members[i]!.weight)) // [N, V]
  );
  const m = terms.reduce((a, b) => max(a, b)); // [N, V]
  const sum = terms.map((t) => exp(sub(t, m))).reduce((a, b) => add(a, b)); // [N, V], ≥ 1
  return add(m, log(sum)); // log Σ wᵢ pᵢ
}

/**
 * Per-token losses of a `hidden-mean` mixture whose weights change from row to row (soft
 * routing scored by `moe eval`): inputs `tokens`, `targets` `[B, T]` int64 (target −1 = not
 * counted) and `weights` `[B, S]` float32 (row b mixes stack s's hidden states with weight
 * `weights[b, s]`), output `nll` `[B, T]` = −log p(target), 0 where not counted. The members'
 * own weights are not used.
 *
 * @param mixture Stacks sharing one `wte` (checked), baked in as initializers.
 * @returns `ModelProto` bytes.
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * import { buildRowMixtureLoss } from "./moe_mixture.ts";
 * const config = GPT_CONFIGS.tiny, values = initGPT(config, 1);
 * const members = ["en", "fr"].map((name) => ({ name, config, values, weight: 0.5 }));
 * const bytes = buildRowMixtureLoss({ rule: "hidden-mean", members }, { batch: 2, seqLen: 8 });
 * console.assert(bytes.length > 0);
 * ```
 */
export function buildRowMixtureLoss(
  mixture: Mixture,
  geometry: { batch: number; seqLen: number },
): Uint8Array {
  checkMixture(mixture);
  if (mixture.rule !== "hidden-mean") {
    throw new RangeError("Cannot build a row-weighted loss graph for probability-mean stacks");
  }
  const { batch: B, seqLen: T } = geometry, S = mixture.members.length;
  const g = new Graph("mixture.nll");
  const tokens = g.input("tokens", "int64", [B, T]);
  const targets = g.input("targets", "int64", [B, T]);
  const weights = g.input("weights", "float32", [B, S]);
  const params = declareMixture(g, mixture);
  const mixed = mixture.members.map((m, s) => {
    const h = g.scope(m.name, () => gptHidden(g, m.config, tokens, params[s]!));
    const C = m.config.dModel;
    const w = reshape(slice(weights, [s], [s + 1], [1]), [B, 1, 1]); // [B, S] → [B, 1] → [B, 1, 1]
    return mul(reshape(h, [B, T, C]), w); // [B·T, C] → [B, T, C] · w_b
  }).reduce((a, b) => add(a, b));
  const C = mixture.members[0]!.config.dModel;
  const head = headWeight(mixture.members[0]!.config, params[0]!); // [V, C]
  const logits = lmHead(reshape(mixed, [B * T, C]), head); // [B·T, V]
  const { loss } = softmaxCrossEntropy(logits, reshape(targets, [B * T]), {
    ignoreIndex: -1,
    reduction: "none",
  }); // [B·T]; 0 where the target is −1
  g.output(reshape(loss, [B, T]), "nll"); // [B·T] → [B, T]
  return encode(g, { parameters: "initializers" });
}
