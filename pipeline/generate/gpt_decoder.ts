/**
 * Decoders of a plain GPT-2 from its parameter values.
 *
 * @module
 */
import type { Backend, InitialValue } from "../../core/runtime/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import {
  buildGPTCacheGraph,
  buildGPTRecomputeGraph,
  emptyKVCache,
  type GenerationGraphOptions,
} from "../../models/gpt_kv_cache.ts";
import type { Decoder } from "./decoder.ts";
import { KVCacheDecoder } from "./kv_cache_decoder.ts";
import { RecomputeDecoder } from "./recompute_decoder.ts";

/** `cache`: KV-cache decoding (fast); `recompute`: the whole window per token (reference). */
export type DecodeMode = "cache" | "recompute";

/** How to open a GPT decoder. */
export interface GPTDecoderOptions {
  /** Default `cache`. */
  mode?: DecodeMode;
  /**
   * Parameters as shared graph inputs or baked into each graph. Default:
   * {@linkcode parameterPlacement}.
   */
  parameters?: GenerationGraphOptions["parameters"];
  /**
   * Where the cache lives. Default: `device` on a backend that keeps outputs on the device
   * (webgpu), `host` elsewhere (cpu, wasm).
   */
  cache?: GenerationGraphOptions["cache"];
  /**
   * Lengths of the prefill chunk graphs besides the whole context: a prompt of n tokens runs
   * ⌈n/L⌉ chunks when that pads to fewer tokens than the context. Default: one chunk length,
   * {@linkcode defaultChunkLength}, so a short prompt does not pay for a whole context.
   */
  prefillLengths?: readonly number[];
  /** Intra-op threads of the one-token step on cpu (default 1; see `KVCacheDecoderSpec`). */
  stepThreads?: number;
  /**
   * Build the prefill graphs to score the prompt too, for `prefillScored` (likelihood routing).
   * Default false: scoring runs the head on every prompt row, which plain generation skips.
   */
  score?: boolean;
}

/** Whether the cache graph of `length` scores its rows: prefill graphs opened with `score`. */
export function scoresLength(length: number, options: GPTDecoderOptions): boolean {
  return options.score === true && length > 1;
}

/**
 * Parameter bytes above which a backend that reads host inputs in place (cpu) gets the weights as
 * shared graph inputs: baked in, every graph of a decoder (one-token step, prefill chunk, whole
 * context) holds its own copy plus ONNX Runtime's pre-packed one, and encoding them costs seconds
 * per hundred MB. `bench generate_sizes` on gpt2-small: start-up 15.6 → 5.2 s and peak RSS 3.0 →
 * 0.8 GB with shared inputs, decoding 29.4 → 22.0 tokens/s (the pre-packed GEMM is lost), so
 * sharing wins in wall time below ~900 generated tokens. Below this size baking in costs little.
 */
export const SHARED_PARAMETERS_ABOVE_BYTES = 64 * 2 ** 20;

/**
 * Where a decoder's parameters go: shared graph inputs on a backend that keeps outputs on the
 * device (webgpu: one uploaded copy for every graph) and, above
 * {@linkcode SHARED_PARAMETERS_ABOVE_BYTES}, on one that reads host inputs in place (cpu);
 * initializers baked into each graph otherwise (small models on cpu; wasm, which would copy
 * input parameters into its heap on every run).
 *
 * @param backend The backend the decoder runs on.
 * @param parameterBytes The parameters' total size in bytes (all experts of a mixture).
 * @returns The placement for the decoder's graphs.
 *
 * @example
 * ```ts
 * import { parameterPlacement } from "./gpt_decoder.ts";
 * import { openBackend } from "../../core/runtime/mod.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * console.assert(parameterPlacement(backend, 20e6) === "initializers");
 * console.assert(parameterPlacement(backend, 500e6) === "inputs");
 * ```
 */
export function parameterPlacement(
  backend: Backend,
  parameterBytes: number,
): "inputs" | "initializers" {
  const c = backend.capabilities;
  if (c.keepsOutputsOnDevice) return "inputs";
  return c.readsHostInputsInPlace && parameterBytes > SHARED_PARAMETERS_ABOVE_BYTES
    ? "inputs"
    : "initializers";
}

/** Bytes of a set of float32 parameters. */
export function parameterBytes(values: Iterable<Float32Array>): number {
  let bytes = 0;
  for (const v of values) bytes += v.byteLength;
  return bytes;
}

/**
 * The default prefill chunk: a quarter of the context, at most 64 tokens (GPT-2 medium, ctx
 * 1024: a 5-token prompt runs 64 positions instead of 1024).
 *
 * @example
 * ```ts
 * import { defaultChunkLength } from "./gpt_decoder.ts";
 * console.assert(defaultChunkLength(128) === 32 && defaultChunkLength(1024) === 64);
 * ```
 */
export function defaultChunkLength(contextLength: number): number {
  return Math.max(1, Math.min(64, Math.floor(contextLength / 4)));
}

/**
 * Builds and loads a GPT decoder on `backend`.
 *
 * @param cfg The model.
 * @param values Its parameters by config name (`wte`, `h0.ln1.scale`, …).
 * @returns The decoder (batch 1).
 *
 * @example
 * ```ts
 * import { openGPTDecoder } from "./gpt_decoder.ts";
 * import { openBackend } from "../../core/runtime/mod.ts";
 * import { GPT_CONFIGS, initGPT } from "../../models/gpt.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * const cfg = GPT_CONFIGS.tiny;
 * const decoder = await openGPTDecoder(backend, cfg, initGPT(cfg, 1));
 * const logits = await decoder.prefill([1, 2, 3]);
 * console.assert(logits.length === 256 && decoder.length === 3);
 * await decoder.step(4);
 * console.assert(decoder.length === 4);
 * await decoder.dispose();
 * ```
 */
export function openGPTDecoder(
  backend: Backend,
  cfg: GPTConfig,
  values: ReadonlyMap<string, Float32Array>,
  options: GPTDecoderOptions = {},
): Promise<Decoder> {
  const onDevice = backend.capabilities.keepsOutputsOnDevice;
  const graphOptions: GenerationGraphOptions = {
    values,
    parameters: options.parameters ?? parameterPlacement(backend, parameterBytes(values.values())),
    cache: options.cache ?? (onDevice ? "device" : "host"),
  };
  if (options.mode === "recompute") {
    const graph = buildGPTRecomputeGraph(cfg, graphOptions);
    return RecomputeDecoder.create(backend, graph, graph.parameters, cfg.vocabSize);
  }
  const chunks = options.prefillLengths ?? [defaultChunkLength(cfg.contextLength)];
  const lengths = new Set([1, cfg.contextLength, ...chunks]);
  const graphs = [...lengths]
    .filter((n) => n >= 1 && n <= cfg.contextLength)
    .map((n) => buildGPTCacheGraph(cfg, n, { ...graphOptions, score: scoresLength(n, options) }));
  const state = new Map<string, InitialValue>(Object.entries(emptyKVCache(cfg, 1)));
  for (const [name, value] of graphs[0]!.parameters) state.set(name, value);
  return KVCacheDecoder.create(backend, {
    graphs,
    state,
    contextLength: cfg.contextLength,
    vocabSize: cfg.vocabSize,
    ...(options.stepThreads === undefined ? {} : { stepThreads: options.stepThreads }),
  });
}
