/**
 * Generation graphs of a {@linkcode Mixture} (MoE-CE's routed + common expert, soft routing):
 * every stack in ONE graph, so a token costs one session run whatever the number of stacks.
 * They have the interface of `gpt_kv_cache.ts` (`tokens`, `position`, `last` → `logits`), with
 * one cache per stack under its name (`en.past.0.k`, `common.past.0.v`, …), so `KVCacheDecoder`
 * and `RecomputeDecoder` run them unchanged. The logits are the mixture's
 * ({@linkcode mixtureLogits}): `head(Σ wᵢ·hᵢ)` or `log Σ wᵢ·pᵢ`.
 *
 * @example Routed expert + common expert, ½ each, one-token step
 * ```ts
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * import { buildMixtureCacheGraph } from "./moe_kv_cache.ts";
 * const config = GPT_CONFIGS.tiny, values = initGPT(config, 1);
 * const members = ["fr", "common"].map((name) => ({ name, config, values, weight: 0.5 }));
 * const step = buildMixtureCacheGraph({ rule: "hidden-mean", members }, 1, { cache: "host" });
 * console.assert(step.rows.some((r) => r.input === "common.past.1.v") && step.length === 1);
 * ```
 *
 * @module
 */
import { Graph, type Tensor } from "../core/graph/mod.ts";
import type { HostTensor } from "../core/runtime/mod.ts";
import { gptHidden, gptHiddenWithCache } from "./gpt.ts";
import {
  declareDecodeInputs,
  declareKVCache,
  emptyKVCache,
  encodeGenerationGraph,
  type GenerationGraph,
  type GenerationGraphOptions,
  type KVRows,
  lastRow,
  outputKVCache,
  outputKVRows,
  outputPromptLogProb,
} from "./gpt_kv_cache.ts";
import {
  checkMixture,
  declareMixture,
  type Mixture,
  mixtureContext,
  mixtureLogits,
} from "./moe_mixture.ts";
import type { StateBinding } from "../core/runtime/mod.ts";

/** How to build a mixture's generation graph: `gpt_kv_cache.ts`'s options without the values. */
export type MixtureGraphOptions = Omit<GenerationGraphOptions, "values">;

/**
 * The mixture's cache graph of `length` new tokens: each stack reads and writes its own cache
 * (whole cache out on the device, new rows out on the host), and row `last` of every stack's
 * final hidden states goes through {@linkcode mixtureLogits}. With `score`, every row's mixed
 * logits also score the prompt (`targets` → `prompt_logprob`, as in `gpt_kv_cache.ts`).
 *
 * @param length T: 1 for steps, up to the mixture's context for prefill.
 * @throws {RangeError} If the mixture is invalid or `length` exceeds its context.
 */
export function buildMixtureCacheGraph(
  mixture: Mixture,
  length: number,
  opts: MixtureGraphOptions = {},
): GenerationGraph {
  checkMixture(mixture);
  checkLength(mixture, length);
  const B = opts.batch ?? 1;
  const g = new Graph(`mixture.cache${length}`);
  const { tokens, position, last } = declareDecodeInputs(g, B, length);
  const params = declareMixture(g, mixture);
  const bindings: StateBinding[] = [], rows: KVRows[] = [], every: Tensor[] = [];
  const hidden = mixture.members.map((m, i) =>
    g.scope(m.name, () => {
      const prefix = `${m.name}.`;
      const past = declareKVCache(g, m.config, B, prefix);
      const r = gptHiddenWithCache(g, m.config, tokens, params[i]!, { position, past });
      if (opts.cache === "host") rows.push(...outputKVRows(g, r.current, prefix));
      else bindings.push(...outputKVCache(g, r.present, prefix));
      every.push(r.hidden);
      return lastRow(r.hidden, last, B, length); // [B·T, C] → [B, C]
    })
  );
  g.output(mixtureLogits(mixture, params, hidden), "logits"); // [B, V]
  // Scoring mixes every row ([B·T, V]); `logits` stays the one-row path, identical to unscored.
  if (opts.score) outputPromptLogProb(g, mixtureLogits(mixture, params, every));
  return encodeGenerationGraph(g, length, { bindings, rows }, opts.parameters);
}

/**
 * The mixture without a cache: `tokens [B, ctx]` (padded on the right) and `last [1]` →
 * `logits [B, V]`, every stack recomputing the whole window. The oracle of the cache tests and
 * `--no-cache`.
 */
export function buildMixtureRecomputeGraph(
  mixture: Mixture,
  opts: MixtureGraphOptions = {},
): GenerationGraph {
  checkMixture(mixture);
  const B = opts.batch ?? 1, T = mixtureContext(mixture);
  const g = new Graph("mixture.recompute");
  const tokens = g.input("tokens", "int64", [B, T]);
  const last = g.input("last", "int64", [1]);
  const params = declareMixture(g, mixture);
  const hidden = mixture.members.map((m, i) =>
    g.scope(m.name, () => lastRow(gptHidden(g, m.config, tokens, params[i]!), last, B, T))
  );
  g.output(mixtureLogits(mixture, params, hidden), "logits"); // [B, V]
  return encodeGenerationGraph(g, T, { bindings: [], rows: [] }, opts.parameters);
}

/**
 * The zero caches of every stack (`<name>.past.*`), the initial cache state of a decoder.
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS, initGPT } from "./gpt.ts";
 * import { emptyMixtureCache } from "./moe_kv_cache.ts";
 * const config = GPT_CONFIGS.tiny, values = initGPT(config, 1);
 * const members = ["en", "common"].map((name) => ({ name, config, values, weight: 0.5 }));
 * const cache = emptyMixtureCache({ rule: "hidden-mean", members });
 * console.assert(Object.keys(cache).length === 2 * 2 * config.layers);
 * ```
 */
export function emptyMixtureCache(mixture: Mixture, batch = 1): Record<string, HostTensor> {
  return Object.assign(
    {},
    ...mixture.members.map((m) => emptyKVCache(m.config, batch, `${m.name}.`)),
  );
}

function checkLength(mixture: Mixture, length: number): void {
  const ctx = mixtureContext(mixture);
  if (!Number.isInteger(length) || length < 1 || length > ctx) {
    throw new RangeError(
      `Cannot build a mixture cache graph of ${length} tokens: expected 1 to the context ${ctx}`,
    );
  }
}
