/**
 * Routing by what predicts the text (beyond the paper; in the spirit of Branch-Train-Merge's
 * domain posterior): every expert scores the prompt, and the posterior
 * `p(k | x) ∝ prior_k · p_k(x)` picks or weights them. Three rules share one decision shape:
 *
 * - `router`: the n-gram router's probabilities, nothing scored;
 * - `likelihood`: a uniform prior, so the expert whose log-likelihood of the prompt is highest;
 * - `combined`: the router's probabilities as the prior, against each expert's per-token
 *   log-likelihood — `p(k | x) ∝ prior_k · p_k(x)^(1/n)` over the prompt's `n` scored tokens.
 *
 * Why per token in `combined`: summed over `n` tokens the evidence grows with the prompt and
 * soon outweighs any confidence of the router, and the tokens of one text are far from
 * independent evidence. On clean prose, where the router is right and a prompt that looks like
 * code misleads, the summed form was behind the router on 23 of 40 out-of-distribution sets
 * (two bundle sizes, PLE and MoE-CE; up to 0.031 nats/token of routing regret), the per-token
 * form on 4 (at most 0.0013), keeping about half of the summed form's gain on manual pages
 * (`docs/commands.md`).
 *
 * Everything is float64 and in log space: a prompt's log-likelihood is hundreds of nats, far
 * past what `exp` can hold.
 *
 * @module
 */

/** How a prompt picks its expert. */
export type RouteRule = "router" | "likelihood" | "combined";

/** The values `--route` accepts. */
export const ROUTE_RULES: readonly RouteRule[] = ["router", "likelihood", "combined"];

/** The smallest prior probability used: a router certain of one class still lets the text speak. */
export const PRIOR_FLOOR = 1e-9;

/**
 * The posterior over experts, `p(k | x) = prior_k · p_k(x) / Σⱼ prior_j · p_j(x)`, computed as a
 * softmax of `log prior_k + log p_k(x)`.
 *
 * @param logLikelihoods Each expert's summed log-probability (nats, ≤ 0) of the prompt's tokens.
 * @param prior Each expert's prior probability (default uniform); floored at
 *   {@linkcode PRIOR_FLOOR} and renormalized over the experts scored.
 * @returns The posterior, by expert, summing to 1.
 * @throws {RangeError} If no expert is given or a log-likelihood is NaN.
 *
 * @example
 * ```ts
 * import { expertPosterior } from "./expert_posterior.ts";
 * // 2 nats apart with a uniform prior: e² : 1.
 * const p = expertPosterior({ en: -100, fr: -102 });
 * console.assert(Math.abs(p.en! - 1 / (1 + Math.exp(-2))) < 1e-12);
 * // A prior of 0.9 / 0.1 on equal likelihoods is the prior.
 * const q = expertPosterior({ en: -50, fr: -50 }, { en: 0.1, fr: 0.9 });
 * console.assert(Math.abs(q.fr! - 0.9) < 1e-12);
 * ```
 */
export function expertPosterior(
  logLikelihoods: Readonly<Record<string, number>>,
  prior?: Readonly<Record<string, number>>,
): Record<string, number> {
  const experts = Object.keys(logLikelihoods);
  if (experts.length === 0) throw new RangeError("Cannot weigh experts: none was scored");
  const floored = experts.map((k) => Math.max(prior?.[k] ?? 1, PRIOR_FLOOR));
  const priorSum = floored.reduce((a, b) => a + b, 0);
  const scores = experts.map((k, i) => {
    const ll = logLikelihoods[k]!;
    if (Number.isNaN(ll)) throw new RangeError(`Cannot weigh experts: "${k}" scored NaN`);
    return Math.log(floored[i]! / priorSum) + ll;
  });
  const top = Math.max(...scores);
  const weights = scores.map((s) => Math.exp(s - top));
  const sum = weights.reduce((a, b) => a + b, 0);
  return Object.fromEntries(experts.map((k, i) => [k, weights[i]! / sum]));
}

/** What a rule decided for one prompt. */
export interface RuleDecision {
  /** The expert with the highest probability (the first of a tie, in the experts' order). */
  best: string;
  /** The rule's probability of each expert (for `router`, the router's). */
  probabilities: Record<string, number>;
}

/**
 * Applies `rule` to one prompt.
 *
 * @param rule How to decide.
 * @param routerProbabilities The n-gram router's probabilities (the prior of `combined`).
 * @param logLikelihoods Each expert's log-likelihood of the prompt; not read by `router`.
 * @param tokens How many tokens the log-likelihoods sum over (`combined` divides by it; at
 *   least 1).
 * @returns The chosen expert and the probabilities it was chosen by.
 *
 * @example
 * ```ts
 * import { decideRoute } from "./expert_posterior.ts";
 * const router = { en: 0.7, py: 0.3 }, scored = { en: -120, py: -90 };
 * console.assert(decideRoute("router", router, scored, 30).best === "en");
 * console.assert(decideRoute("likelihood", router, scored, 30).best === "py");
 * // 1 nat per token (×e) outweighs the router's 0.7 : 0.3 (×2.3).
 * console.assert(decideRoute("combined", router, scored, 30).best === "py");
 * console.assert(decideRoute("combined", { en: 0.9, py: 0.1 }, scored, 30).best === "en");
 * ```
 */
export function decideRoute(
  rule: RouteRule,
  routerProbabilities: Readonly<Record<string, number>>,
  logLikelihoods: Readonly<Record<string, number>>,
  tokens: number,
): RuleDecision {
  const n = Math.max(1, tokens);
  const perToken = () =>
    Object.fromEntries(Object.entries(logLikelihoods).map(([k, ll]) => [k, ll / n]));
  const probabilities = rule === "router"
    ? { ...routerProbabilities }
    : rule === "combined"
    ? expertPosterior(perToken(), routerProbabilities)
    : expertPosterior(logLikelihoods);
  let best = "";
  for (const [k, p] of Object.entries(probabilities)) {
    if (best === "" || p > probabilities[best]!) best = k;
  }
  return { best, probabilities };
}
