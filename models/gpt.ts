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
  matMul,
  mul,
  reshape,
  slice,
  softmax,
  split,
  tanh,
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
import { type GPTConfig, gptParamSpecs, initGPT } from "./gpt_config.ts";

export * from "./gpt_config.ts";

/** Batch geometry and parameter values of a built graph. */
export interface GPTBuildOptions extends DeclareOptions {
  batch: number;
  seqLen: number;
}

/** 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) — GPT-2's tanh approximation of GELU. */
function gelu(x: Tensor): Tensor {
  const c = Math.sqrt(2 / Math.PI);
  const u = mul(x, add(mul(mul(x, x), 0.044715 * c), c)); // c · (x + 0.044715 x³)
  return mul(mul(x, 0.5), add(tanh(u), 1));
}

/** Causal additive mask `[T, T]`: 0 on and below the diagonal, −1e9 above. */
function causalMask(g: Graph, T: number): Tensor {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return g.constant(m, [T, T], "float32", "causal_mask");
}

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

/**
 * The transformer from token ids to the final hidden states (after the last LayerNorm).
 *
 * @param tokens `[B, T]` int64 token ids.
 * @param p The parameters (see {@linkcode declareGPTParams}).
 * @returns Hidden states `[B·T, C]`.
 */
export function gptHidden(g: Graph, cfg: GPTConfig, tokens: Tensor, p: ParamLookup): Tensor {
  const [B, T] = tokens.shape as [number, number];
  const C = cfg.dModel, nh = cfg.heads, hs = C / nh;
  if (T > cfg.contextLength) {
    throw new RangeError(`Sequence length ${T} exceeds context ${cfg.contextLength}`);
  }
  const ln = (x: Tensor, name: string) =>
    g.scope(name, () => layerNorm(x, p(`${name}.scale`), p(`${name}.bias`), cfg.layerNormEps).y);
  const linear = (x: Tensor, name: string) =>
    g.scope(name, () => gemm(x, p(`${name}.w`), p(`${name}.b`)));
  const mask = causalMask(g, T);

  const tok = gather(p("wte"), tokens); // [B, T] → [B, T, C]
  const pos = slice(p("wpe"), [0], [T], [0]); // [ctx, C] → [T, C]
  let x = reshape(add(tok, pos), [B * T, C]); // [B, T, C] → [B·T, C]

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
      const att = softmax(add(matMul(q, kT), mask), -1); // [B, nh, T, hs] · [B, nh, hs, T] → [B, nh, T, T]
      const y = matMul(att, v); // [B, nh, T, T] · [B, nh, T, hs] → [B, nh, T, hs]
      const merged = reshape(transpose(y, [0, 2, 1, 3]), [B * T, C]); // → [B, T, nh, hs] → [B·T, C]
      const x1 = add(x, linear(merged, `h${l}.attn.proj`)); // [B·T, C] · [C, C] → [B·T, C]
      // MLP
      const h = gelu(linear(ln(x1, `h${l}.ln2`), `h${l}.mlp.fc`)); // [B·T, C] · [C, 4C] → [B·T, 4C]
      return add(x1, linear(h, `h${l}.mlp.proj`)); // [B·T, 4C] · [4C, C] → [B·T, C]
    });
  }
  return ln(x, "lnf");
}

/** The tied LM head: hidden `[N, C]` · `wte`ᵀ `[C, V]` → logits `[N, V]`. */
export function lmHead(hidden: Tensor, wte: Tensor): Tensor {
  return gemm(hidden, wte, null, { transB: 1 });
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
  return lmHead(gptHidden(g, cfg, tokens, p), p("wte"));
}

/**
 * The training step graph: inputs `tokens` and `targets` (`[B, T]` int64, target −1 = padding),
 * `lr`, `step`, parameters and AdamW state; outputs `loss`, `grad_norm`, updated state.
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
  return buildTrainingStep("gpt.train", (g) => {
    const tokens = g.input("tokens", "int64", [opts.batch, opts.seqLen]);
    const targets = g.input("targets", "int64", [opts.batch, opts.seqLen]);
    const logits = gptForward(g, cfg, tokens, opts); // [B·T, V]
    return crossEntropy(logits, reshape(targets, [opts.batch * opts.seqLen])); // [B, T] → [B·T]
  }, adamw);
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
