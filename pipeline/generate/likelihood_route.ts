/**
 * Likelihood routing for generation (issue 18; in the spirit of Branch-Train-Merge's domain
 * posterior): every expert of a bundle reads the prompt with a scored prefill, the posterior
 * `p(k | x) ∝ prior_k · p_k(x)` picks one, and the chosen expert's decoder — its KV cache already
 * holding the prompt — goes on generating, so the winner's prefill is the one generation needed
 * anyway and the others' are the cost of the rule.
 *
 * @module
 */
import type { Backend } from "../../core/runtime/mod.ts";
import { decideRoute, type RouteRule, type RuleDecision } from "../../core/routing/mod.ts";
import { type Bundle, bundleMixture, routedMix } from "../moe/mod.ts";
import type { Decoder } from "./decoder.ts";
import { checkedDecoder } from "./checked_decoder.ts";
import { fitPrompt } from "./generate.ts";
import type { GPTDecoderOptions } from "./gpt_decoder.ts";
import { openMixtureDecoder } from "./mixture_decoder.ts";

/** What scoring the candidates decided, and the chosen decoder when it is kept. */
export interface LikelihoodRoute {
  /** The chosen expert and the posterior it was chosen by. */
  decision: RuleDecision;
  /** Each expert's log-likelihood of the prompt (nats). */
  logLikelihoods: Record<string, number>;
  /**
   * The chosen expert's decoder, holding `ids`, and its next-token logits (null when `keep` is
   * false: every decoder was disposed).
   */
  kept: { decoder: Decoder; logits: Float32Array } | null;
  /** The prompt as scored: fitted to the context as generation fits it. */
  ids: number[];
  /** Prompt tokens dropped from the left to fit. */
  truncated: number;
  /** Tokens the log-likelihoods sum over: the prompt's but the first, which is read, not predicted. */
  scoredTokens: number;
  /**
   * Wall-clock ms spent opening and prefilling the experts that do not generate (all of them
   * when nothing is kept): the extra cost of the rule per prompt.
   */
  scoringMs: number;
}

/** How to score a bundle's experts. */
export interface LikelihoodRouteOptions {
  /** `likelihood` (uniform prior) or `combined` (the router's probabilities as prior). */
  rule: Exclude<RouteRule, "router">;
  /** The n-gram router's probabilities of the prompt (the prior of `combined`). */
  routerProbabilities: Record<string, number>;
  /** The prompt's token ids; empty: `eotId` alone (the start of a new document). */
  promptIds: readonly number[];
  eotId: number;
  /** Tokens to generate, so that the scored prompt is the one generation reads (`fitPrompt`). */
  maxTokens: number;
  /** Keep the chosen expert's decoder (hard routing) or dispose of all (`--mix posterior`). */
  keep: boolean;
  /** Decoding options of the candidates (`score` is set). */
  decoder?: GPTDecoderOptions;
  /** How errors name a candidate, e.g. `bundle "b" (expert fr 0.50 + common 0.50)`. */
  describe: (weights: Record<string, number>) => string;
}

/**
 * Opens one decoder per class expert of `bundle` (with the common expert where hard routing adds
 * it, MoE-CE), prefills each with the prompt while scoring it, decides with
 * {@linkcode decideRoute}, and keeps the chosen decoder (or none).
 *
 * @param bundle A loaded bundle.
 * @param backend Where to run.
 * @param options Rule, prior, prompt and what to keep.
 * @returns The decision, the scores, the kept decoder and the cost.
 * @throws {RangeError} If a candidate's logits cannot be sampled (every decoder is disposed).
 *
 * @example
 * ```ts ignore
 * const r = await routeByLikelihood(bundle, backend, {
 *   rule: "likelihood", routerProbabilities: {}, promptIds: ids, eotId: 256, maxTokens: 32,
 *   keep: true, describe: (w) => JSON.stringify(w),
 * });
 * await generate(r.kept!.decoder, r.ids, { maxTokens: 32, eotId: 256, sampling: GREEDY, prefilled: r.kept!.logits });
 * ```
 */
export async function routeByLikelihood(
  bundle: Bundle,
  backend: Backend,
  options: LikelihoodRouteOptions,
): Promise<LikelihoodRoute> {
  const classes = [...bundle.experts.keys()];
  const mixes = classes.map((c) => bundleMixture(bundle, routedMix(bundle, c)));
  // One prompt for all (the smallest context), so that the scores compare.
  const ctx = Math.min(...mixes.flatMap((m) => m.members.map((s) => s.config.contextLength)));
  const prompt = options.promptIds.length > 0 ? [...options.promptIds] : [options.eotId];
  const { ids, truncated } = fitPrompt(prompt, ctx, options.maxTokens);
  const scored = new Map<string, { decoder: Decoder; logits: Float32Array; ms: number }>();
  const logLikelihoods: Record<string, number> = {};
  try {
    for (const [i, c] of classes.entries()) {
      const start = performance.now();
      const mixture = mixes[i]!;
      const weights = Object.fromEntries(mixture.members.map((m) => [m.name, m.weight]));
      const decoder = checkedDecoder(
        await openMixtureDecoder(backend, mixture, { ...options.decoder, score: true }),
        options.describe(weights),
      );
      scored.set(c, { decoder, logits: new Float32Array(), ms: 0 });
      const { logits, logLikelihood } = await decoder.prefillScored!(ids);
      scored.set(c, { decoder, logits, ms: performance.now() - start });
      logLikelihoods[c] = logLikelihood;
    }
  } catch (error) {
    for (const { decoder } of scored.values()) await decoder.dispose();
    throw error;
  }
  const scoredTokens = ids.length - 1;
  const decision = decideRoute(
    options.rule,
    options.routerProbabilities,
    logLikelihoods,
    scoredTokens,
  );
  let scoringMs = 0, kept: LikelihoodRoute["kept"] = null;
  for (const [c, s] of scored) {
    if (options.keep && c === decision.best) kept = { decoder: s.decoder, logits: s.logits };
    else {
      scoringMs += s.ms;
      await s.decoder.dispose();
    }
  }
  return { decision, logLikelihoods, kept, ids, truncated, scoredTokens, scoringMs };
}
