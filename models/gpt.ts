/**
 * GPT-2 (pre-LN, learned positions, GELU-tanh, tied LM head, causal multi-head attention) as an
 * ONNX graph, in the order of nanoGPT's `model.py`. One definition yields the training step
 * (masked next-token cross-entropy + backward + AdamW) and the inference graph (logits).
 * The residual stream is kept as `[B·T, C]` so every linear layer is one Gemm with fused bias.
 *
 * @module
 */
import {
  add,
  encode,
  gather,
  gemm,
  Graph,
  layerNorm,
  mul,
  reshape,
  slice,
  split,
  type Tensor,
  transpose,
} from "../core/graph/mod.ts";
import { crossEntropy } from "../core/losses/mod.ts";
import {
  ADAMW_DEFAULTS,
  type AdamWConfig,
  buildTrainingStep,
  type TrainingGraph,
} from "../core/optim/mod.ts";
import { dropout, DROPOUT_KEY } from "./dropout.ts";
import { type GPTConfig, gptParamSpecs, initGPT } from "./gpt_config.ts";
import { gelu } from "./gpt_gelu.ts";
import {
  cachedAttention,
  causalAttention,
  type Drop,
  type KVCacheInput,
  type LayerKV,
} from "./gpt_attention.ts";

export * from "./gpt_config.ts";
export { DROPOUT_KEY, dropoutKey } from "./dropout.ts";
export type { KVCacheInput, LayerKV } from "./gpt_attention.ts";

/** Batch geometry and parameter values of a built graph. */
export interface GPTBuildOptions extends DeclareOptions {
  batch: number;
  seqLen: number;
  /**
   * The int64 scalar that keys this run's dropout masks (`models/dropout.ts`): given only in
   * training graphs, and only then does a config with `dropout > 0` drop.
   */
  dropoutKey?: Tensor;
}

/**
 * Above this many bytes of attention probabilities (all layers' `[B, nh, T, T]`) a training
 * graph's backward recomputes them rather than keep them from the forward: gpt2-small at 1 024
 * tokens holds 604 MB of them, gpt2-medium 1.6 GB. Below, recomputing saves nothing worth its
 * product (the benchmark shape holds 16 MB).
 */
export const RECOMPUTE_ATTENTION_ABOVE_BYTES = 256 * 2 ** 20;

/** Looks up a declared parameter by its config name (`wte`, `h0.attn.qkv.w`, …). */
export type ParamLookup = (name: string) => Tensor;

/** How to declare a model's parameters in a graph. */
export interface DeclareOptions {
  /** Parameter values (default: `initGPT(cfg, seed)`). */
  values?: ReadonlyMap<string, Float32Array>;
  seed?: number;
  /** Parameters that get no gradient and no update (e.g. a frozen teacher). */
  frozen?: (name: string) => boolean;
  /**
   * Prefix of the graph input names (`teacher.` makes `teacher.wte`, …), so two models can
   * live in one graph; `values` and `frozen` still use the unprefixed config names.
   */
  prefix?: string;
  /** Declare only these parameters (e.g. one expert's stack without the shared embedding). */
  only?: (name: string) => boolean;
}

/**
 * Declares the parameters of `cfg` in `g` (as trainable or frozen graph parameters).
 *
 * @returns A lookup from config name to the declared tensor.
 * @throws {RangeError} If `values` lacks a parameter.
 */
export function declareGPTParams(g: Graph, cfg: GPTConfig, opts: DeclareOptions = {}): ParamLookup {
  const values = opts.values ?? initGPT(cfg, opts.seed ?? 0);
  const prefix = opts.prefix ?? "";
  const P = new Map<string, Tensor>();
  for (const s of gptParamSpecs(cfg)) {
    if (opts.only && !opts.only(s.name)) continue;
    const init = values.get(s.name);
    if (!init) throw new RangeError(`Cannot build GPT: no value for parameter "${s.name}"`);
    const trainable = !(opts.frozen?.(s.name) ?? false);
    P.set(s.name, g.parameter(prefix + s.name, s.shape, init, { decay: s.decay, trainable }));
  }
  return (name) => {
    const t = P.get(name);
    if (!t) throw new RangeError(`Cannot build GPT: parameter "${prefix}${name}" is not declared`);
    return t;
  };
}

/** Final hidden states and the keys/values every layer attended to. */
export interface HiddenWithCache {
  /** `[B·T, C]`, after the final LayerNorm. */
  hidden: Tensor;
  /**
   * Per layer: without a cache, this sequence's keys `[B, nh, hs, T]` and values `[B, nh, T, hs]`;
   * with one, the updated cache (`past` with the `T` new positions written) over the context.
   */
  present: LayerKV[];
  /**
   * Per layer, the keys `[B, nh, hs, T]` and values `[B, nh, T, hs]` of the `T` new tokens alone
   * (equal to `present` without a cache): what a runner that keeps the cache in host memory
   * writes into it.
   */
  current: LayerKV[];
}

/**
 * The transformer from token ids to the final hidden states, also giving each layer's keys and
 * values. Without `cache` the `T` tokens sit at positions `0…T−1` and attend causally among
 * themselves; with `cache` they sit at `position…position+T−1` and attend to the cache, into
 * which they are written (`present` is the updated cache, to feed back as the next `past`).
 * Both paths run the same blocks; only the attention's source of keys and values differs. A cache
 * graph of `T = ctx` tokens starts at position 0 by necessity; it ignores `past` and `position`.
 *
 * Call it twice with two {@linkcode ParamLookup}s (and two caches) to run two stacks in one
 * graph, e.g. a routed and a common expert sharing `wte`.
 *
 * With `dropoutKey` (training graphs only) and `cfg.dropout > 0`, it drops where GPT-2 does:
 * the embedding sum (site 0), and in layer `l` the attention probabilities (site `1 + 3l`), the
 * attention output (`2 + 3l`) and the MLP output (`3 + 3l`), each before its residual add.
 *
 * @param tokens `[B, T]` int64 token ids.
 * @param p The parameters (see {@linkcode declareGPTParams}).
 * @param cache Where the tokens go and the cache they attend to (see `models/gpt_kv_cache.ts`).
 * @param dropoutKey The int64 scalar key of the dropout masks (see `models/dropout.ts`).
 * @returns Hidden states `[B·T, C]` and per-layer keys/values.
 * @throws {RangeError} If `T` exceeds the context or the cache has the wrong number of layers.
 *
 * @example
 * ```ts
 * import { declareGPTParams, GPT_CONFIGS, gptHiddenWithCache } from "./gpt.ts";
 * import { Graph } from "../core/graph/mod.ts";
 * const g = new Graph("prefill");
 * const cfg = GPT_CONFIGS.tiny;
 * const tokens = g.input("tokens", "int64", [1, 8]);
 * const { hidden, present } = gptHiddenWithCache(g, cfg, tokens, declareGPTParams(g, cfg));
 * console.assert(hidden.shape.join() === "8,64" && present[0]!.k.shape.join() === "1,2,32,8");
 * ```
 */
export function gptHiddenWithCache(
  g: Graph,
  cfg: GPTConfig,
  tokens: Tensor,
  p: ParamLookup,
  cache?: KVCacheInput,
  dropoutKey?: Tensor,
): HiddenWithCache {
  const [B, T] = tokens.shape as [number, number];
  const C = cfg.dModel, nh = cfg.heads, hs = C / nh;
  if (T > cfg.contextLength) {
    throw new RangeError(`Sequence length ${T} exceeds context ${cfg.contextLength}`);
  }
  const ln = (x: Tensor, name: string) =>
    g.scope(name, () => layerNorm(x, p(`${name}.scale`), p(`${name}.bias`), cfg.layerNormEps).y);
  const linear = (x: Tensor, name: string) =>
    g.scope(name, () => gemm(x, p(`${name}.w`), p(`${name}.b`)));
  // Subtle: a cache graph as long as the context can only start at position 0 and rewrites every
  // slot, so attending causally among its own tokens is exact and skips the blend.
  const blend = cache !== undefined && T < cfg.contextLength;
  const rate = dropoutKey === undefined ? 0 : cfg.dropout ?? 0;
  const drop: Drop = (x, site) => dropout(x, rate, dropoutKey!, site);
  const probabilityBytes = 4 * cfg.layers * B * nh * T * T;
  const recompute = rate === 0 && probabilityBytes >= RECOMPUTE_ATTENTION_ABOVE_BYTES;
  const attend = blend
    ? cachedAttention(g, cfg, T, cache)
    : causalAttention(g, T, rate > 0 ? drop : null, recompute);

  const tok = gather(p("wte"), tokens); // [B, T] → [B, T, C]
  const pos = blend
    ? gather(p("wpe"), add(g.ints([...Array(T).keys()]), cache!.position)) // [ctx, C] → [T, C]
    : slice(p("wpe"), [0], [T], [0]); // [ctx, C] → [T, C]
  let x = drop(reshape(add(tok, pos), [B * T, C]), 0); // [B, T, C] → [B·T, C]

  const present: LayerKV[] = [], current: LayerKV[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    x = g.scope(`h${l}`, () => {
      // Causal self-attention
      const a = ln(x, `h${l}.ln1`);
      const qkv = linear(a, `h${l}.attn.qkv`); // [B·T, C] · [C, 3C] → [B·T, 3C]
      const [q0, k0, v0] = split(qkv, [C, C, C], 1); // [B·T, 3C] → 3 × [B·T, C]
      const heads = (t: Tensor) => reshape(t, [B, T, nh, hs]); // [B·T, C] → [B, T, nh, hs]
      const q = transpose(heads(mul(q0!, 1 / Math.sqrt(hs))), [0, 2, 1, 3]); // → [B, nh, T, hs]
      const kT = transpose(heads(k0!), [0, 2, 3, 1]); // → [B, nh, hs, T]
      const v = transpose(heads(v0!), [0, 2, 1, 3]); // → [B, nh, T, hs]
      const { y, kv } = attend(l, q, kT, v); // → [B, nh, T, hs]
      present.push(kv);
      current.push({ k: kT, v });
      const merged = reshape(transpose(y, [0, 2, 1, 3]), [B * T, C]); // → [B, T, nh, hs] → [B·T, C]
      const x1 = add(x, drop(linear(merged, `h${l}.attn.proj`), 2 + 3 * l)); // [B·T, C] · [C, C] → [B·T, C]
      // MLP
      const h = gelu(g, linear(ln(x1, `h${l}.ln2`), `h${l}.mlp.fc`), cfg.activation); // [B·T, C] · [C, 4C] → [B·T, 4C]
      return add(x1, drop(linear(h, `h${l}.mlp.proj`), 3 + 3 * l)); // [B·T, 4C] · [4C, C] → [B·T, C]
    });
  }
  return { hidden: ln(x, "lnf"), present, current };
}

/**
 * The transformer from token ids to the final hidden states (after the last LayerNorm), causal
 * over positions `0…T−1`: {@linkcode gptHiddenWithCache} without a cache.
 *
 * @param tokens `[B, T]` int64 token ids.
 * @param p The parameters (see {@linkcode declareGPTParams}).
 * @param dropoutKey The dropout masks' key, in training graphs (see {@linkcode gptHiddenWithCache}).
 * @returns Hidden states `[B·T, C]`.
 */
export function gptHidden(
  g: Graph,
  cfg: GPTConfig,
  tokens: Tensor,
  p: ParamLookup,
  dropoutKey?: Tensor,
): Tensor {
  return gptHiddenWithCache(g, cfg, tokens, p, undefined, dropoutKey).hidden;
}

/** The LM head: hidden `[N, C]` · `wte`ᵀ (or an untied `lm_head`ᵀ) `[C, V]` → logits `[N, V]`. */
export function lmHead(hidden: Tensor, wte: Tensor): Tensor {
  return gemm(hidden, wte, null, { transB: 1 });
}

/**
 * The LM head's weight `[V, C]` of a model: `wte` when tied, else its `lm_head` (see
 * `GPTConfig.head`).
 *
 * @example
 * ```ts
 * import { declareGPTParams, GPT_CONFIGS, headWeight } from "./gpt.ts";
 * import { Graph } from "../core/graph/mod.ts";
 * const cfg = { ...GPT_CONFIGS.tiny, head: "untied" as const };
 * const g = new Graph("head");
 * console.assert(headWeight(cfg, declareGPTParams(g, cfg)).name === "lm_head");
 * ```
 */
export function headWeight(cfg: GPTConfig, p: ParamLookup): Tensor {
  return p(cfg.head === "untied" ? "lm_head" : "wte");
}

/**
 * Declares the parameters in `g` and builds the forward pass from token ids to logits.
 *
 * @param tokens `[B, T]` int64 token ids.
 * @returns Logits `[B·T, V]`.
 */
export function gptForward(
  g: Graph,
  cfg: GPTConfig,
  tokens: Tensor,
  opts: GPTBuildOptions,
): Tensor {
  const p = declareGPTParams(g, cfg, opts);
  return lmHead(gptHidden(g, cfg, tokens, p, opts.dropoutKey), headWeight(cfg, p));
}

/**
 * The GPT's objective as a graph builder: inputs `tokens` and `targets` (`[B, T]` int64, target
 * −1 = padding), output the mean next-token cross-entropy. With `train` and `cfg.dropout > 0` it
 * also reads the int64 scalar input `dropout_key` ({@linkcode DROPOUT_KEY}) and drops; without
 * `train` (evaluation) it never does.
 *
 * @example
 * ```ts
 * import { Graph } from "../core/graph/mod.ts";
 * import { GPT_CONFIGS, gptLoss } from "./gpt.ts";
 * const g = new Graph("loss");
 * gptLoss({ ...GPT_CONFIGS.tiny, dropout: 0.1 }, { batch: 1, seqLen: 8 }, true)(g);
 * console.assert(g.inputs.some((t) => t.name === "dropout_key"));
 * ```
 */
export function gptLoss(
  cfg: GPTConfig,
  opts: GPTBuildOptions,
  train: boolean,
): (g: Graph) => Tensor {
  return (g) => {
    const tokens = g.input("tokens", "int64", [opts.batch, opts.seqLen]);
    const targets = g.input("targets", "int64", [opts.batch, opts.seqLen]);
    const drops = train && (cfg.dropout ?? 0) > 0;
    const dropoutKey = drops ? g.input(DROPOUT_KEY, "int64", []) : undefined;
    const logits = gptForward(g, cfg, tokens, { ...opts, ...(dropoutKey ? { dropoutKey } : {}) }); // [B·T, V]
    return crossEntropy(logits, reshape(targets, [opts.batch * opts.seqLen])); // [B, T] → [B·T]
  };
}

/**
 * The training step graph: inputs `tokens` and `targets` (`[B, T]` int64, target −1 = padding),
 * `lr`, `step`, parameters and AdamW state (and `dropout_key` when `cfg.dropout > 0`); outputs
 * `loss`, `grad_norm`, updated state.
 *
 * @example
 * ```ts
 * import { buildGPTTraining, GPT_CONFIGS } from "./gpt.ts";
 * const step = buildGPTTraining(GPT_CONFIGS.tiny, { batch: 1, seqLen: 8 });
 * console.assert(step.bindings.some((b) => b.input === "wte"));
 * ```
 */
export function buildGPTTraining(
  cfg: GPTConfig,
  opts: GPTBuildOptions,
  adamw: AdamWConfig = ADAMW_DEFAULTS,
): TrainingGraph {
  return buildTrainingStep("gpt.train", gptLoss(cfg, opts, true), adamw);
}

/**
 * The inference graph with the parameter values baked in: input `tokens` `[B, T]`, output
 * `logits` `[B, T, V]`.
 */
export function buildGPTInference(cfg: GPTConfig, opts: GPTBuildOptions): Uint8Array {
  const g = new Graph("gpt.infer");
  const tokens = g.input("tokens", "int64", [opts.batch, opts.seqLen]);
  const logits = gptForward(g, cfg, tokens, opts);
  g.output(reshape(logits, [opts.batch, opts.seqLen, cfg.vocabSize]), "logits"); // [B·T, V] → [B, T, V]
  return encode(g, { parameters: "initializers", ...(opts.values ? { values: opts.values } : {}) });
}
