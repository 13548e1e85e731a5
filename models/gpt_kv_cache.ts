/**
 * KV-cache graphs of GPT-2 for generation, built from the same blocks as training
 * ({@linkcode gptHiddenWithCache}). Shapes are static, so the cache has a fixed size: per layer,
 * keys `[B, nh, hs, ctx]` (transposed) and values `[B, nh, ctx, hs]`. One graph family covers
 * prefill and decoding: a *cache graph* of length `T` writes `T` tokens at `position…position+T−1`
 * into the cache, attends to slots `≤` each token's position, and returns the logits of the row
 * `last` and the updated cache (`present.*`, fed back as `past.*` on the next run).
 *
 * - prefill: the `T = ctx` graph at position 0 with the prompt padded on the right (the padding
 *   writes slots that later steps overwrite before any token can see them);
 * - decoding: the `T = 1` graph at position = tokens so far.
 *
 * Graph interface (every name below may carry a stack prefix, e.g. `en.`, except the first three):
 *
 * | name | dtype, shape | |
 * |---|---|---|
 * | `tokens` | int64 `[B, T]` | new token ids |
 * | `position` | int64 `[1]` | slot of the first new token |
 * | `last` | int64 `[1]` | which of the `T` rows gives `logits` |
 * | `past.{l}.k` / `past.{l}.v` | float32 `[B, nh, hs, ctx]` / `[B, nh, ctx, hs]` | cache in |
 * | `logits` | float32 `[B, V]` | output |
 * | `present.{l}.k` / `present.{l}.v` | as `past` | cache out |
 * | `targets` | int64 `[B·T]` | scored graphs only: each row's next token, −1 = not scored |
 * | `prompt_logprob` | float32 `[]` | scored graphs only: Σ log p(target) over scored rows |
 *
 * Where the cache lives is a build option. `device` (webgpu): the graph outputs the whole updated
 * cache and the runner feeds it back, so it never leaves the GPU. `host` (cpu, wasm): the graph
 * outputs only the new tokens' keys and values (`rows.{l}.k` `[B, nh, hs, T]`, `rows.{l}.v`
 * `[B, nh, T, hs]`) and the runner writes them into host arrays that it feeds in place — the
 * native runtime copies every output into a fresh array, which for a whole cache per token costs
 * more than the token's arithmetic.
 *
 * Composing stacks (MoE-CE: a routed and a common expert averaged before the head) uses the
 * pieces: {@linkcode declareDecodeInputs} once, then per stack {@linkcode declareKVCache},
 * `gptHiddenWithCache` and {@linkcode outputKVCache} (or {@linkcode outputKVRows}) with the
 * stack's prefix; `KVCacheDecoder` in `pipeline/generate` runs the result.
 *
 * @example Two stacks sharing `wte`, final hidden states averaged (MoE-CE), one-token step
 * ```ts
 * import { Graph, mul, add, encode } from "../core/graph/mod.ts";
 * import { declareGPTParams, GPT_CONFIGS, gptHiddenWithCache, initGPT, lmHead } from "./gpt.ts";
 * import { declareDecodeInputs, declareKVCache, lastRow, outputKVCache } from "./gpt_kv_cache.ts";
 * const cfg = GPT_CONFIGS.tiny, values = initGPT(cfg, 1);
 * const g = new Graph("moe-ce.step");
 * const { tokens, position, last } = declareDecodeInputs(g, 1, 1);
 * const shared = declareGPTParams(g, cfg, { values, only: (n) => n === "wte" });
 * const hidden = ["en.", "common."].map((prefix) => {
 *   const own = declareGPTParams(g, cfg, { values, prefix, only: (n) => n !== "wte" });
 *   const p = (n: string) => (n === "wte" ? shared(n) : own(n));
 *   const past = declareKVCache(g, cfg, 1, prefix);
 *   const r = gptHiddenWithCache(g, cfg, tokens, p, { position, past });
 *   outputKVCache(g, r.present, prefix);
 *   return r.hidden;
 * });
 * const mean = mul(add(hidden[0]!, hidden[1]!), 0.5); // [B·T, C]
 * g.output(lmHead(lastRow(mean, last, 1, 1), shared("wte")), "logits"); // [B, V]
 * console.assert(g.inputs.some((t) => t.name === "common.past.1.v") && encode(g).length > 0);
 * ```
 *
 * @module
 */
import {
  cast,
  encode,
  gather,
  Graph,
  greater,
  mul,
  neg,
  reduceSum,
  reshape,
  type Tensor,
} from "../core/graph/mod.ts";
import { crossEntropy } from "../core/losses/mod.ts";
import type { HostTensor, StateBinding } from "../core/runtime/mod.ts";
import {
  declareGPTParams,
  type GPTConfig,
  gptHidden,
  gptHiddenWithCache,
  headWeight,
  type LayerKV,
  lmHead,
} from "./gpt.ts";

/** The inputs every stack of a cache graph shares. */
export interface DecodeInputs {
  /** int64 `[B, T]`. */
  tokens: Tensor;
  /** int64 `[1]`: cache slot of the first token. */
  position: Tensor;
  /** int64 `[1]`: the row whose logits the graph returns. */
  last: Tensor;
}

/**
 * Declares `tokens [B, T]`, `position [1]` and `last [1]` (all int64).
 *
 * @param g The graph.
 * @param batch Rows B.
 * @param length New tokens per run T.
 * @returns The three inputs.
 */
export function declareDecodeInputs(g: Graph, batch: number, length: number): DecodeInputs {
  return {
    tokens: g.input("tokens", "int64", [batch, length]),
    position: g.input("position", "int64", [1]),
    last: g.input("last", "int64", [1]),
  };
}

/** Name of a cache input (`past`) or output (`present`) of layer `l`. */
export function kvName(
  kind: "past" | "present",
  l: number,
  part: "k" | "v",
  prefix = "",
): string {
  return `${prefix}${kind}.${l}.${part}`;
}

/**
 * Declares one stack's cache inputs `{prefix}past.{l}.k` `[B, nh, hs, ctx]` and
 * `{prefix}past.{l}.v` `[B, nh, ctx, hs]`.
 *
 * @returns One {@linkcode LayerKV} per layer, to pass as `past` to `gptHiddenWithCache`.
 */
export function declareKVCache(g: Graph, cfg: GPTConfig, batch: number, prefix = ""): LayerKV[] {
  const { k, v } = cacheShapes(cfg, batch);
  return Array.from({ length: cfg.layers }, (_, l) => ({
    k: g.input(kvName("past", l, "k", prefix), "float32", k),
    v: g.input(kvName("past", l, "v", prefix), "float32", v),
  }));
}

/**
 * Marks one stack's updated cache as outputs `{prefix}present.{l}.k|v` (cache on the device).
 *
 * @returns The bindings `present → past` that feed them back on the next run.
 */
export function outputKVCache(g: Graph, present: readonly LayerKV[], prefix = ""): StateBinding[] {
  return present.flatMap((kv, l) =>
    (["k", "v"] as const).map((part) => {
      g.output(kv[part], kvName("present", l, part, prefix));
      return { input: kvName("past", l, part, prefix), output: kvName("present", l, part, prefix) };
    })
  );
}

/** A host-side cache input and the output that holds its new rows. */
export interface KVRows {
  /** The cache input (`{prefix}past.{l}.k|v`). */
  input: string;
  /** The output with the new tokens' part (`{prefix}rows.{l}.k|v`). */
  output: string;
  /** The context axis of both: 3 for keys `[B, nh, hs, ·]`, 2 for values `[B, nh, ·, hs]`. */
  axis: number;
}

/**
 * Marks one stack's new keys and values as outputs `{prefix}rows.{l}.k|v` (cache on the host).
 *
 * @param current `gptHiddenWithCache(…).current`.
 * @returns Which input each output's rows go into, and along which axis.
 */
export function outputKVRows(g: Graph, current: readonly LayerKV[], prefix = ""): KVRows[] {
  return current.flatMap((kv, l) =>
    (["k", "v"] as const).map((part) => {
      g.output(kv[part], `${prefix}rows.${l}.${part}`);
      return {
        input: kvName("past", l, part, prefix),
        output: `${prefix}rows.${l}.${part}`,
        axis: part === "k" ? 3 : 2,
      };
    })
  );
}

/**
 * A zero cache for one stack: the initial value of every `{prefix}past.*` input.
 *
 * @example
 * ```ts
 * import { emptyKVCache } from "./gpt_kv_cache.ts";
 * import { GPT_CONFIGS } from "./gpt.ts";
 * const cache = emptyKVCache(GPT_CONFIGS.tiny, 1, "en.");
 * console.assert(cache["en.past.1.k"]!.dims.join() === "1,2,32,64");
 * ```
 */
export function emptyKVCache(
  cfg: GPTConfig,
  batch: number,
  prefix = "",
): Record<string, HostTensor> {
  const { k, v } = cacheShapes(cfg, batch);
  const size = k.reduce((a, b) => a * b, 1);
  const out: Record<string, HostTensor> = {};
  for (let l = 0; l < cfg.layers; l++) {
    out[kvName("past", l, "k", prefix)] = {
      dtype: "float32",
      dims: k,
      data: new Float32Array(size),
    };
    out[kvName("past", l, "v", prefix)] = {
      dtype: "float32",
      dims: v,
      data: new Float32Array(size),
    };
  }
  return out;
}

function cacheShapes(cfg: GPTConfig, batch: number): { k: number[]; v: number[] } {
  const hs = cfg.dModel / cfg.heads, ctx = cfg.contextLength;
  return { k: [batch, cfg.heads, hs, ctx], v: [batch, cfg.heads, ctx, hs] };
}

/** Row `last` of every sequence: hidden `[B·T, C]` → `[B, C]`. */
export function lastRow(hidden: Tensor, last: Tensor, batch: number, length: number): Tensor {
  const C = hidden.shape[1]!;
  const rows = reshape(hidden, [batch, length, C]); // [B·T, C] → [B, T, C]
  return reshape(gather(rows, last, 1), [batch, C]); // [B, T, C] → [B, 1, C] → [B, C]
}

/**
 * Scores the rows a cache graph reads: declares `targets` int64 `[B·T]` (row n's next token, −1
 * where it is not scored: padding, the prompt's last token) and outputs `prompt_logprob`, the
 * float32 scalar `Σₙ log softmax(logitsₙ)[targetₙ]` over scored rows, in nats. The decoder sums
 * it over its prefill runs, so a prompt is scored by the very prefill that fills the cache.
 *
 * @param g The graph.
 * @param logits `[B·T, V]`: every row's logits (not only `last`).
 *
 * @example
 * ```ts
 * import { Graph } from "../core/graph/mod.ts";
 * import { outputPromptLogProb } from "./gpt_kv_cache.ts";
 * const g = new Graph("score");
 * outputPromptLogProb(g, g.input("rows", "float32", [4, 10]));
 * console.assert(g.inputs.some((t) => t.name === "targets"));
 * ```
 */
export function outputPromptLogProb(g: Graph, logits: Tensor): void {
  const targets = g.input("targets", "int64", [logits.shape[0]!]);
  const counted = reduceSum(cast(greater(targets, -1), "float32")); // scored rows
  // crossEntropy is the mean −log p over scored rows (0 when none): times their count, the sum.
  g.output(neg(mul(crossEntropy(logits, targets), counted)), "prompt_logprob");
}

/** How to build a generation graph. */
export interface GenerationGraphOptions {
  /** The model's parameter values, by config name. */
  values: ReadonlyMap<string, Float32Array>;
  /** Rows (default 1). */
  batch?: number;
  /**
   * `inputs` (default): parameters are graph inputs that the runner uploads once and shares
   * between the graphs of a decoder; `initializers`: baked into each graph.
   */
  parameters?: "inputs" | "initializers";
  /** Where the cache lives: `device` (default; whole cache out) or `host` (new rows out). */
  cache?: "device" | "host";
  /**
   * Also score the rows read (`targets` in, `prompt_logprob` out; see the module doc), for
   * likelihood routing: the head then runs on every row, not only `last`, so only the graphs
   * opened to score a prompt ask for it (default false).
   */
  score?: boolean;
}

/** An encoded generation graph and what its runner needs. */
export interface GenerationGraph {
  /** `ModelProto` bytes. */
  model: Uint8Array;
  /** New tokens per run (T). */
  length: number;
  /** `present → past` bindings (cache on the device; empty otherwise). */
  bindings: StateBinding[];
  /** Rows outputs and the host caches they go into (cache on the host; empty otherwise). */
  rows: KVRows[];
  /** Parameter values by input name when parameters are inputs (empty otherwise). */
  parameters: Map<string, Float32Array>;
}

/**
 * The GPT cache graph of `length` new tokens (see the module doc for its inputs and outputs).
 *
 * @param cfg The model.
 * @param length T: `contextLength` for prefill, 1 for decoding.
 * @returns The graph, its bindings and its parameters.
 *
 * @example
 * ```ts
 * import { buildGPTCacheGraph } from "./gpt_kv_cache.ts";
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * const step = buildGPTCacheGraph(GPT_CONFIGS.tiny, 1, { values: initGPT(GPT_CONFIGS.tiny, 0) });
 * console.assert(step.bindings.length === 4 && step.parameters.has("wte"));
 * const host = buildGPTCacheGraph(GPT_CONFIGS.tiny, 1, {
 *   values: initGPT(GPT_CONFIGS.tiny, 0),
 *   cache: "host",
 *   parameters: "initializers",
 * });
 * console.assert(host.rows[0]!.output === "rows.0.k" && host.parameters.size === 0);
 * ```
 */
export function buildGPTCacheGraph(
  cfg: GPTConfig,
  length: number,
  opts: GenerationGraphOptions,
): GenerationGraph {
  const B = opts.batch ?? 1;
  const g = new Graph(`gpt.cache${length}`);
  const { tokens, position, last } = declareDecodeInputs(g, B, length);
  const p = declareGPTParams(g, cfg, { values: opts.values });
  const past = declareKVCache(g, cfg, B);
  const { hidden, present, current } = gptHiddenWithCache(g, cfg, tokens, p, { position, past });
  g.output(lmHead(lastRow(hidden, last, B, length), headWeight(cfg, p)), "logits"); // [B, C] → [B, V]
  if (opts.score) outputPromptLogProb(g, lmHead(hidden, headWeight(cfg, p))); // [B·T, V]
  const host = opts.cache === "host";
  const bindings = host ? [] : outputKVCache(g, present);
  const rows = host ? outputKVRows(g, current) : [];
  return encodeGenerationGraph(g, length, { bindings, rows }, opts.parameters);
}

/**
 * The full-recompute graph (no cache): `tokens [B, ctx]` (padded on the right) and `last [1]` →
 * `logits [B, V]` of row `last`. The baseline of the benchmark and the oracle of the tests.
 *
 * @example
 * ```ts
 * import { buildGPTRecomputeGraph } from "./gpt_kv_cache.ts";
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * const full = buildGPTRecomputeGraph(GPT_CONFIGS.tiny, { values: initGPT(GPT_CONFIGS.tiny, 0) });
 * console.assert(full.length === 64 && full.bindings.length === 0);
 * ```
 */
export function buildGPTRecomputeGraph(
  cfg: GPTConfig,
  opts: GenerationGraphOptions,
): GenerationGraph {
  const B = opts.batch ?? 1, T = cfg.contextLength;
  const g = new Graph("gpt.recompute");
  const tokens = g.input("tokens", "int64", [B, T]);
  const last = g.input("last", "int64", [1]);
  const p = declareGPTParams(g, cfg, { values: opts.values });
  g.output(lmHead(lastRow(gptHidden(g, cfg, tokens, p), last, B, T), headWeight(cfg, p)), "logits"); // [B, V]
  return encodeGenerationGraph(g, T, { bindings: [], rows: [] }, opts.parameters);
}

/**
 * Encodes a built generation graph (a plain GPT's or a composed one, e.g. MoE-CE) for
 * `KVCacheDecoder`: parameters as inputs (returned by graph input name, prefixes included) or
 * baked in as initializers.
 *
 * @param g The graph, outputs marked.
 * @param length Its new tokens per run T.
 * @param cache What `outputKVCache` (bindings) or `outputKVRows` (rows) returned.
 * @param parameters `inputs` (default) or `initializers`.
 * @returns The graph for the decoder.
 */
export function encodeGenerationGraph(
  g: Graph,
  length: number,
  cache: { bindings: StateBinding[]; rows: KVRows[] },
  parameters: "inputs" | "initializers" = "inputs",
): GenerationGraph {
  if (parameters === "initializers") {
    const model = encode(g, { parameters: "initializers" });
    return { model, length, ...cache, parameters: new Map() };
  }
  const values = new Map(g.parameters.map((p) => [p.tensor.name, p.init]));
  return { model: encode(g, { parameters: "inputs" }), length, ...cache, parameters: values };
}
