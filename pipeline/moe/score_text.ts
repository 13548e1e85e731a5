/**
 * Scoring one text file with one model (`moe eval MODEL --text FILE`): the file's tokens (no
 * BOS added) in consecutive non-overlapping windows of the model's context length, the last one
 * shorter; every token after the first of its window is predicted from the tokens before it in
 * the window; the loss is the mean cross-entropy (nats) over the predicted tokens, and the
 * perplexity its exponential — the rule `transformers` users apply to a GPT-2 (one forward pass
 * per window, `labels = input_ids`).
 *
 * A bundle scores each window with what `moe generate` runs for that text: the router's expert
 * for the window's decoded text (`unknown` → the bundle's fallback), with the common expert
 * for MoE-CE, combined by the bundle's rule (see `mixture.ts`).
 *
 * @module
 */
import type { Backend } from "../../core/runtime/mod.ts";
import type { TextTokenizer } from "../../core/tokenizer/mod.ts";
import { UNKNOWN } from "../../core/routing/mod.ts";
import { buildTokenLoss } from "../../models/moe.ts";
import { buildRowMixtureLoss } from "../../models/moe_mixture.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Bundle } from "./bundle.ts";
import { weightedMixLoss } from "./mixture_loss.ts";
import { type ClassData, type Losses, tokenLosses } from "./token_losses.ts";
import { bundleMember, type BundleMix, bundleMixture, routedMix } from "./mixture_plan.ts";

/** What `moe eval --text` reports. */
export interface TextScore {
  /** Mean cross-entropy per predicted token (nats). */
  loss: number;
  perplexity: number;
  /** Tokens of the text. */
  tokens: number;
  /** Tokens predicted (the tokens minus one per window). */
  predicted: number;
  /** Window length (the model's context). */
  context: number;
  windows: number;
  /** For a bundle: windows per stack combination (`fr`, `fr+common`, …). */
  routes?: Record<string, number>;
}

/** How to score: rows per graph run, and where. */
export interface ScoreTextOptions {
  /** Windows per graph run. */
  batch: number;
  backend: Backend;
}

/** One GPT: its shape and parameters (a checkpoint or Hugging Face folder). */
export interface ScoredModel {
  config: GPTConfig;
  values: ReadonlyMap<string, Float32Array>;
}

/**
 * The windows of a token sequence (see the module doc) as loss-graph batches: `[B, T]` tokens and
 * targets, target `t` = the window's token `t + 1`, −1 past its end.
 *
 * @param ids The text's tokens.
 * @param context Window length T (≥ 2).
 * @param batch Windows per batch B.
 * @param which Only these windows (default: all), in this order.
 * @returns The batches, the window count and the predicted-token count.
 *
 * @example
 * ```ts
 * import { textWindows } from "./score_text.ts";
 * const d = textWindows([5, 6, 7, 8, 9], 2, 4);
 * // windows [5, 6] [7, 8] [9]: 6 and 8 are predicted; the lone 9 predicts nothing
 * console.assert(d.rows === 3 && d.tokens === 2 && d.batches[0]!.targets.join() === "6,-1,8,-1,-1,-1,-1,-1");
 * ```
 */
export function textWindows(
  ids: ArrayLike<number>,
  context: number,
  batch: number,
  which?: readonly number[],
): ClassData {
  const count = Math.ceil(ids.length / context);
  const windows = which ?? Array.from({ length: count }, (_, w) => w);
  const batches: ClassData["batches"] = [];
  let predicted = 0;
  for (let first = 0; first < windows.length; first += batch) {
    const tokens = new BigInt64Array(batch * context);
    const targets = new BigInt64Array(batch * context).fill(-1n);
    const n = Math.min(batch, windows.length - first);
    for (let r = 0; r < n; r++) {
      const start = windows[first + r]! * context;
      const end = Math.min(start + context, ids.length);
      for (let t = start; t < end; t++) {
        tokens[r * context + t - start] = BigInt(ids[t]!);
        if (t + 1 < end) targets[r * context + t - start] = BigInt(ids[t + 1]!);
      }
      predicted += Math.max(0, end - start - 1);
    }
    batches.push({ tokens, targets, count: n * context });
  }
  return { batches, rows: windows.length, tokens: predicted };
}

/**
 * Scores `text` with one GPT (see the module doc).
 *
 * @param model The model.
 * @param tokenizer Its tokenizer.
 * @param text The text.
 * @param options Batch and backend.
 * @returns Loss, perplexity and counts.
 * @throws {RangeError} If the text has fewer than two tokens (nothing to predict).
 */
export async function scoreText(
  model: ScoredModel,
  tokenizer: TextTokenizer,
  text: string,
  options: ScoreTextOptions,
): Promise<TextScore> {
  const ids = tokenizer.encode(text);
  const T = model.config.contextLength;
  const data = textWindows(ids, T, options.batch);
  checkPredicts(data);
  const geometry = { batch: options.batch, seqLen: T };
  const graph = buildTokenLoss(model.config, [model.values], geometry);
  const losses = await tokenLosses(options.backend, graph, new Map([["text", data]]), geometry);
  return summary(sum(losses.get("text")!), ids.length, T, data);
}

/**
 * Scores `text` with a bundle: each window with its routed stacks (see the module doc).
 *
 * @param bundle The bundle.
 * @param text The text.
 * @param options Batch and backend.
 * @returns Loss, perplexity, counts and the windows per route.
 * @throws {RangeError} If the text has fewer than two tokens.
 */
export async function scoreTextWithBundle(
  bundle: Bundle,
  text: string,
  options: ScoreTextOptions,
): Promise<TextScore> {
  const ids = bundle.tokenizer.encode(text);
  const members = [...bundle.experts.values(), ...(bundle.common ? [bundle.common] : [])];
  const T = Math.min(...members.map((m) => m.config.contextLength));
  const all = textWindows(ids, T, options.batch);
  checkPredicts(all);
  // Windows grouped by the stacks that answer them: one graph per group.
  const groups = new Map<string, { mix: BundleMix; windows: number[] }>();
  for (let w = 0; w < all.rows; w++) {
    const window = Array.from(ids.subarray(w * T, Math.min((w + 1) * T, ids.length)));
    const mix = routedMix(bundle, routeOf(bundle, bundle.tokenizer.decode(window)));
    const key = Object.keys(mix.weights).join("+");
    const group = groups.get(key) ?? groups.set(key, { mix, windows: [] }).get(key)!;
    group.windows.push(w);
  }
  let total = 0;
  const routes: Record<string, number> = {};
  for (const [key, { mix, windows }] of groups) {
    const data = textWindows(ids, T, options.batch, windows);
    total += sum(await mixLosses(bundle, mix, data, { batch: options.batch, seqLen: T }, options));
    routes[key] = windows.length;
  }
  return { ...summary(total, ids.length, T, all), routes };
}

/** The expert `moe generate` routes a text to: the router's class, else the fallback. */
function routeOf(bundle: Bundle, text: string): string {
  const r = bundle.router.route(text, bundle.manifest.router.minConfidence);
  if (r.label !== UNKNOWN) return r.label;
  return bundle.manifest.fallback === "common" && bundle.common ? "common" : r.best;
}

/** Per-token losses of a bundle's stacks combined as `mix` says. */
async function mixLosses(
  bundle: Bundle,
  mix: BundleMix,
  data: ClassData,
  geometry: { batch: number; seqLen: number },
  options: ScoreTextOptions,
): Promise<Losses> {
  const names = Object.keys(mix.weights);
  const windows = new Map([["text", data]]);
  const alone = async (name: string) => {
    const { config, values } = bundleMember(bundle, name);
    const graph = buildTokenLoss(config, [values], geometry);
    return (await tokenLosses(options.backend, graph, windows, geometry)).get("text")!;
  };
  if (names.length === 1) return alone(names[0]!);
  if (mix.rule === "hidden-mean") {
    const weights = new Float32Array(geometry.batch * names.length);
    weights.forEach((_, i) => weights[i] = mix.weights[names[i % names.length]!]!);
    const graph = buildRowMixtureLoss(bundleMixture(bundle, mix), geometry);
    return (await tokenLosses(options.backend, graph, windows, geometry, () => weights))
      .get("text")!;
  }
  // probability-mean: −log Σₖ wₖ e^{−aₖ} per token from each stack's own losses.
  const parts: { w: number; l: Losses }[] = [];
  for (const name of names) parts.push({ w: mix.weights[name]!, l: await alone(name) });
  return parts[0]!.l.map((_, t) =>
    weightedMixLoss(parts.map((p) => p.l[t]!), parts.map((p) => p.w))
  );
}

function checkPredicts(data: ClassData): void {
  if (data.tokens === 0) {
    throw new RangeError(
      "Cannot score the text: it has fewer than two tokens, so no token is predicted",
    );
  }
}

/** Sum in float64 of per-token losses (float32 each). */
function sum(losses: Losses): number {
  let s = 0;
  for (const l of losses) s += l;
  return s;
}

function summary(total: number, tokens: number, context: number, data: ClassData): TextScore {
  const loss = total / data.tokens;
  return {
    loss,
    perplexity: Math.exp(loss),
    tokens,
    predicted: data.tokens,
    context,
    windows: data.rows,
  };
}
