/**
 * The {@linkcode Decoder} of a mixture of GPT stacks (`models/moe_mixture.ts`): MoE-CE's routed
 * and common experts with their final hidden states averaged, or soft routing. All stacks live
 * in one graph per length (`models/moe_kv_cache.ts`), each with its own KV cache, so a token is
 * one session run; `KVCacheDecoder` and `RecomputeDecoder` run those graphs as they run a
 * plain GPT's.
 *
 * @module
 */
import type { Backend, InitialValue } from "../../core/runtime/mod.ts";
import { checkMixture, type Mixture, mixtureContext } from "../../models/moe_mixture.ts";
import {
  buildMixtureCacheGraph,
  buildMixtureRecomputeGraph,
  emptyMixtureCache,
  type MixtureGraphOptions,
} from "../../models/moe_kv_cache.ts";
import type { Decoder } from "./decoder.ts";
import {
  defaultChunkLength,
  type GPTDecoderOptions,
  openGPTDecoder,
  parameterBytes,
  parameterPlacement,
  scoresLength,
} from "./gpt_decoder.ts";
import { KVCacheDecoder } from "./kv_cache_decoder.ts";
import { RecomputeDecoder } from "./recompute_decoder.ts";

/**
 * Builds and loads the decoder of `mixture` on `backend` (batch 1). A mixture of one stack is
 * that stack's plain GPT decoder, so hard routing without a common expert costs what a single
 * model costs and gives exactly its logits. Its context is the smallest stack's.
 *
 * @param mixture Stacks, weights and rule (checked).
 * @param options As for `openGPTDecoder`: cache or recompute, parameter and cache placement,
 *   prefill chunk lengths.
 * @returns The decoder; its logits are the mixture's (`log Σ wᵢ pᵢ` for `probability-mean`).
 * @throws {RangeError} If the mixture is invalid.
 *
 * @example
 * ```ts
 * import { openMixtureDecoder } from "./mixture_decoder.ts";
 * import { openBackend } from "../../core/runtime/mod.ts";
 * import { GPT_CONFIGS, initGPT } from "../../models/gpt.ts";
 * const { backend } = await openBackend("cpu", { threads: 1 });
 * const config = GPT_CONFIGS.tiny;
 * const decoder = await openMixtureDecoder(backend, {
 *   rule: "probability-mean",
 *   members: [
 *     { name: "en", config, values: initGPT(config, 1), weight: 0.25 },
 *     { name: "fr", config, values: initGPT(config, 2), weight: 0.75 },
 *   ],
 * });
 * const logits = await decoder.prefill([1, 2, 3]);
 * const total = logits.reduce((s, l) => s + Math.exp(l), 0); // log-probabilities
 * console.assert(Math.abs(total - 1) < 1e-4);
 * await decoder.step(4);
 * await decoder.dispose();
 * ```
 */
export function openMixtureDecoder(
  backend: Backend,
  mixture: Mixture,
  options: GPTDecoderOptions = {},
): Promise<Decoder> {
  checkMixture(mixture);
  if (mixture.members.length === 1) {
    const only = mixture.members[0]!;
    return openGPTDecoder(backend, only.config, only.values, options);
  }
  const onDevice = backend.capabilities.keepsOutputsOnDevice;
  const graphOptions: MixtureGraphOptions = {
    parameters: options.parameters ??
      parameterPlacement(
        backend,
        mixture.members.reduce((s, m) => s + parameterBytes(m.values.values()), 0),
      ),
    cache: options.cache ?? (onDevice ? "device" : "host"),
  };
  const vocabSize = mixture.members[0]!.config.vocabSize;
  if (options.mode === "recompute") {
    const full = buildMixtureRecomputeGraph(mixture, graphOptions);
    return RecomputeDecoder.create(backend, full, full.parameters, vocabSize);
  }
  const ctx = mixtureContext(mixture);
  // One-token steps, the whole context, and the prefill chunks that fit.
  const lengths = [1, ctx, ...(options.prefillLengths ?? [defaultChunkLength(ctx)])]
    .filter((n, i, all) => n >= 1 && n <= ctx && all.indexOf(n) === i);
  const graphs = lengths.map((n) =>
    buildMixtureCacheGraph(mixture, n, { ...graphOptions, score: scoresLength(n, options) })
  );
  const state = new Map<string, InitialValue>([
    ...Object.entries(emptyMixtureCache(mixture)),
    ...graphs[0]!.parameters,
  ]);
  return KVCacheDecoder.create(backend, {
    graphs,
    state,
    contextLength: ctx,
    vocabSize,
    ...(options.stepThreads === undefined ? {} : { stepThreads: options.stepThreads }),
  });
}
