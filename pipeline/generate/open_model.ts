/**
 * Opening a trained model for generation: a `moe train` run directory (its `latest` checkpoint)
 * or a checkpoint directory, read as `config.json` (model shape, end-of-text id),
 * `state.safetensors` (the parameters) and `tokenizer.json`; a Hugging Face GPT-2 folder (read by
 * `readHfCheckpoint`); or a MoE bundle. The one place that knows model layouts for generation, so
 * other kinds branch here.
 *
 * @module
 */
import { join } from "node:path";
import type { Backend } from "../../core/runtime/mod.ts";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { loadTokenizer, type TextTokenizer } from "../../core/tokenizer/mod.ts";
import { InvalidRequest } from "../../core/job/mod.ts";
import {
  type Bundle,
  BUNDLE_FORMAT,
  type BundleMix,
  bundleMixture,
  type GenerateMixMode,
  loadBundle,
  routedMix,
  softMix,
} from "../moe/mod.ts";
import { type RouteResult, type RouteRule, UNKNOWN } from "../../core/routing/mod.ts";
import {
  findCheckpoint,
  type GPTCheckpoint,
  gptParameters,
  readHfCheckpoint,
} from "../training/mod.ts";
import type { MixRule } from "../../models/moe_mixture.ts";
import type { Decoder } from "./decoder.ts";
import { checkedDecoder } from "./checked_decoder.ts";
import { type GPTDecoderOptions, openGPTDecoder } from "./gpt_decoder.ts";
import { openMixtureDecoder } from "./mixture_decoder.ts";
import { type LikelihoodRoute, routeByLikelihood } from "./likelihood_route.ts";

/** How a bundle routed the prompt, and which of its stacks generate. */
export interface PromptRoute {
  /**
   * The routed expert: a class, or `common`; under `mix: "router"` the router's most probable
   * class (every class generates, see `weights`).
   */
  expert: string;
  /** The router's label for the prompt (`unknown` below the bundle's confidence threshold). */
  label: string;
  /**
   * Why this expert: the router chose it, `--expert` forced it, the fallback took over, or the
   * experts' scores of the prompt decided (`likelihood`, `combined`: see `routing`).
   */
  by: "router" | "forced" | "fallback" | Exclude<RouteRule, "router">;
  /** The router's probabilities. */
  probabilities: Record<string, number>;
  /** The routing rule asked for (`router` unless likelihood routing was asked for). */
  routing: RouteRule;
  /** The posterior the scores gave (`likelihood`, `combined`, `--mix posterior`); else absent. */
  posterior?: Record<string, number>;
  /** Each expert's log-likelihood of the prompt (nats) when they scored it; else absent. */
  logLikelihoods?: Record<string, number>;
  /** How many tokens those log-likelihoods sum over (`combined` weighs them per token). */
  scoredTokens?: number;
  /** Extra wall-clock ms spent scoring the candidates (0 when nothing was scored). */
  scoringMs: number;
  /** Hard routing (`route`), router-weighted (`router`) or posterior-weighted (`posterior`). */
  mix: GenerateMixMode;
  /** The stacks that generate and their weights (sum 1), e.g. `{ fr: 0.5, common: 0.5 }`. */
  weights: Record<string, number>;
  /** How they combine (see `models/moe_mixture.ts`); null for one expert alone. */
  rule: MixRule | null;
}

/** A model ready to generate with. */
export interface OpenedModel {
  decoder: Decoder;
  tokenizer: TextTokenizer;
  /** The end-of-text id (stop token, and the start of an empty prompt). */
  eotId: number;
  /** The checkpoint or bundle directory read. */
  dir: string;
  /** For a MoE bundle: the expert chosen for the prompt; null for a single model. */
  route: PromptRoute | null;
  /**
   * When likelihood routing already prefilled the decoder: the prompt it holds (fitted to the
   * context), the tokens dropped to fit, and the next-token logits; generation continues from
   * there (`GenerateOptions.prefilled`) instead of prefilling again.
   */
  prefilled?: { ids: number[]; truncated: number; logits: Float32Array };
}

/** How to open a model: decoding options, and for a bundle the prompt to route. */
export interface OpenModelOptions extends GPTDecoderOptions {
  /** The prompt (a bundle routes it to an expert). */
  prompt?: string;
  /** Force this expert of a bundle (a class, or `common`). */
  expert?: string;
  /** The expert for a prompt the router calls `unknown` (default: the bundle's fallback). */
  fallback?: string;
  /**
   * Hard routing (default `route`), every expert weighted by the router (`router`) or by the
   * posterior of likelihood routing (`posterior`).
   */
  mix?: GenerateMixMode;
  /**
   * How hard routing picks the expert: the n-gram router (default), the experts' likelihood of
   * the prompt (`likelihood`), or both (`combined`). `--mix posterior` uses `combined`'s
   * posterior, or `likelihood`'s when asked.
   */
  route?: RouteRule;
  /** Tokens to generate: a scored prompt is fitted to the context as generation fits it. */
  maxTokens?: number;
}

/**
 * Opens a run or checkpoint directory, a Hugging Face GPT-2 folder or a bundle on `backend`.
 *
 * @param path A `moe train --out` directory, one of its `step-N` directories, a Hugging Face
 *   folder or a `moe assemble` bundle.
 * @param backend Where to run.
 * @param options Cache or recompute, parameter placement.
 * @returns The decoder, tokenizer and end-of-text id.
 * @throws {Error} One line naming the path and what is wrong: not found, no checkpoint, a
 *   missing or malformed file, a parameter missing or of the wrong shape, a tokenizer that does
 *   not fit the model.
 */
export async function openModel(
  path: string,
  backend: Backend,
  options: OpenModelOptions = {},
): Promise<OpenedModel> {
  const fail = (detail: string) => new Error(`Cannot open model "${path}": ${detail}`);
  const info = await Deno.stat(path).catch(() => null);
  if (!info) throw fail("no such file or directory");
  if (!info.isDirectory) throw fail("not a directory (expected a run or checkpoint directory)");
  if (await isBundle(path)) return await openBundleExpert(path, backend, options);
  if (options.mix === "router" || options.mix === "posterior") {
    const mix = options.mix;
    throw new InvalidRequest(
      (s) => `Invalid ${s.option("mix")} ${mix} for "${path}": soft routing needs a MoE bundle`,
      { option: "mix" },
    );
  }
  if (options.route !== undefined && options.route !== "router") {
    const rule = options.route;
    throw new InvalidRequest(
      (s) =>
        `Invalid ${s.option("route")} ${rule} for "${path}": likelihood routing needs a MoE bundle`,
      { option: "route" },
    );
  }
  // A Hugging Face folder's errors name its files already.
  const { dir, config, values } = await readHfCheckpoint(path) ?? await readCheckpoint(path, fail);
  const cfg = config.model;
  const tokenizer = await loadTokenizer(join(dir, "tokenizer.json")).catch((error) => {
    throw fail(error instanceof Error ? error.message : String(error));
  });
  if (tokenizer.vocabSize > cfg.vocabSize) {
    throw fail(
      `tokenizer.json has ${tokenizer.vocabSize} tokens, more than the model's ${cfg.vocabSize}`,
    );
  }
  const decoder = checkedDecoder(
    await openGPTDecoder(backend, cfg, values, options),
    `model "${dir}"`,
  );
  return { decoder, tokenizer, eotId: config.tokenizer.eotId, dir, route: null };
}

/** A `moe train` run's latest checkpoint or a checkpoint directory, every failure one line. */
async function readCheckpoint(
  path: string,
  fail: (detail: string) => Error,
): Promise<GPTCheckpoint> {
  let found: Awaited<ReturnType<typeof findCheckpoint>>;
  try {
    found = await findCheckpoint(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw fail("no checkpoint there (neither latest nor config.json; is it a moe train run?)");
    }
    const message = error instanceof Error ? error.message : String(error);
    // findCheckpoint's own errors name the file; a bare JSON.parse error does not.
    throw message.startsWith("Cannot") ? error : fail(`cannot read config.json (${message})`);
  }
  const { dir, config } = found;
  const statePath = join(dir, "state.safetensors");
  const { tensors } = await loadSafetensors(statePath).catch((error) => {
    const reason = error instanceof Deno.errors.NotFound
      ? `no state.safetensors in "${dir}"`
      : error instanceof Error
      ? error.message
      : String(error);
    throw fail(reason);
  });
  try {
    return { dir, config, values: gptParameters(tensors, config.model) };
  } catch (error) {
    throw fail(`"${statePath}": ${(error as Error).message}`);
  }
}

/**
 * Whether `path` is a bundle: its manifest says so, or it is unreadable JSON — then loading the
 * bundle names the broken manifest, which "no checkpoint there" would not.
 */
async function isBundle(path: string): Promise<boolean> {
  const text = await Deno.readTextFile(join(path, "manifest.json")).catch(() => null);
  if (text === null) return false;
  try {
    return (JSON.parse(text) as { format?: string } | null)?.format === BUNDLE_FORMAT;
  } catch {
    return true;
  }
}

/**
 * Routes the prompt through a bundle's router (once, for the whole sequence) and opens the
 * stacks that answer it (see `pipeline/moe/mixture_plan.ts`):
 *
 * - `mix: "route"` (default): `--expert` if given (alone), else the routing rule's choice. With
 *   `route: "router"` (default), the router's class, else (an `unknown` prompt: empty or below
 *   the bundle's confidence threshold) the fallback — the common expert when the bundle has one,
 *   else the router's best class. With `likelihood` or `combined`, every class expert scores the
 *   prompt and the posterior picks (see `likelihood_route.ts`; no `unknown`, so no fallback); the
 *   chosen decoder is kept, its cache holding the prompt. A MoE-CE bundle adds its common expert
 *   to the routed class (final hidden states averaged by the bundle's weights, `moe eval`'s
 *   `routed+common`), and its candidates are scored that way.
 * - `mix: "router"`: every expert weighted by the router's probabilities (soft routing).
 * - `mix: "posterior"`: every expert weighted by the posterior of `combined` (or `likelihood`
 *   when asked): the experts score first, then the mixture opens and prefills again.
 *
 * Several stacks run as one mixture graph per token (`openMixtureDecoder`).
 *
 * @throws {InvalidRequest} For an expert the bundle lacks (option `expert` or `fallback`),
 *   either of them with soft routing, a fallback with likelihood routing, or a rule with
 *   `mix: "router"`.
 */
async function openBundleExpert(
  path: string,
  backend: Backend,
  options: OpenModelOptions,
): Promise<OpenedModel> {
  const bundle = await loadBundle(path);
  const r = bundle.router.route(options.prompt ?? "", bundle.manifest.router.minConfidence);
  const mixMode = options.mix ?? "route", routing = options.route ?? "router";
  checkRouting(mixMode, routing, options);
  const describe = (weights: Record<string, number>) => {
    const stacks = Object.entries(weights).map(([name, w]) => `${name} ${w.toFixed(2)}`);
    return `bundle "${path}" (expert ${stacks.join(" + ")})`;
  };
  const open = async (mix: BundleMix) =>
    checkedDecoder(
      await openMixtureDecoder(backend, bundleMixture(bundle, mix), options),
      describe(mix.weights),
    );
  const opened = (decoder: Decoder, route: PromptRoute): OpenedModel => ({
    decoder,
    tokenizer: bundle.tokenizer,
    eotId: bundle.manifest.tokenizer.eotId,
    dir: path,
    route,
  });
  const base = { label: r.label, probabilities: r.probabilities, routing, mix: mixMode };
  const scores = mixMode === "posterior" ||
    (mixMode === "route" && routing !== "router" && options.expert === undefined);
  if (scores) {
    const rule = routing === "likelihood" ? "likelihood" : "combined";
    const lr: LikelihoodRoute = await routeByLikelihood(bundle, backend, {
      rule,
      routerProbabilities: r.probabilities,
      promptIds: Array.from(bundle.tokenizer.encode(options.prompt ?? "")),
      eotId: bundle.manifest.tokenizer.eotId,
      maxTokens: options.maxTokens ?? Infinity,
      keep: mixMode === "route",
      decoder: options,
      describe,
    });
    const mix = mixMode === "posterior"
      ? softMix(bundle, lr.decision.probabilities)
      : routedMix(bundle, lr.decision.best);
    const route: PromptRoute = {
      ...base,
      expert: lr.decision.best,
      by: rule,
      posterior: lr.decision.probabilities,
      logLikelihoods: lr.logLikelihoods,
      scoredTokens: lr.scoredTokens,
      scoringMs: Math.round(lr.scoringMs * 100) / 100,
      weights: mix.weights,
      rule: mix.rule,
    };
    if (lr.kept === null) return opened(await open(mix), route);
    const { ids, truncated } = lr;
    return { ...opened(lr.kept.decoder, route), prefilled: { ids, truncated, ...lr.kept } };
  }
  const { expert, by } = routerDecision(path, bundle, r, mixMode, options);
  const mix = mixMode === "router"
    ? softMix(bundle, r.probabilities)
    : routedMix(bundle, expert, by === "forced" ? false : undefined);
  const route = { ...base, expert, by, scoringMs: 0, weights: mix.weights, rule: mix.rule };
  return opened(await open(mix), route);
}

/**
 * The expert the n-gram router's decision `r` gives: its best class under soft routing, else
 * `--expert`, the router's label, or (an `unknown` prompt) the fallback.
 */
function routerDecision(
  path: string,
  bundle: Bundle,
  r: RouteResult,
  mix: GenerateMixMode,
  options: OpenModelOptions,
): { expert: string; by: PromptRoute["by"] } {
  const names = [...bundle.experts.keys(), ...(bundle.common ? ["common"] : [])];
  const pick = (name: string, option: "expert" | "fallback") => {
    if (!names.includes(name)) {
      throw new InvalidRequest(
        (s) =>
          `Invalid ${s.option(option)} "${name}": the bundle "${path}" has ${names.join(", ")}`,
        { option },
      );
    }
    return name;
  };
  if (mix === "router") return { expert: r.best, by: "router" };
  if (options.expert !== undefined) return { expert: pick(options.expert, "expert"), by: "forced" };
  if (r.label !== UNKNOWN) return { expert: r.label, by: "router" };
  const fallback = options.fallback ??
    (bundle.manifest.fallback === "common" && bundle.common ? "common" : r.best);
  return { expert: pick(fallback, "fallback"), by: "fallback" };
}

/** The option combinations that routing cannot honour (see {@linkcode openBundleExpert}). */
function checkRouting(mix: GenerateMixMode, routing: RouteRule, options: OpenModelOptions): void {
  if (mix !== "route") {
    for (const option of ["expert", "fallback"] as const) {
      if (options[option] !== undefined) {
        throw new InvalidRequest(
          (s) =>
            `Invalid ${s.option(option)} with ${
              s.option("mix")
            } ${mix}: soft routing uses every expert`,
          { option },
        );
      }
    }
  }
  if (mix === "router" && routing !== "router") {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${s.option("route")} ${routing} with ${
          s.option("mix")
        } router: it weights by the router (use ${s.option("mix")} posterior)`,
      { option: "route" },
    );
  }
  if (routing !== "router" && options.fallback !== undefined) {
    throw new InvalidRequest(
      (s) =>
        `Invalid ${s.option("fallback")} with ${
          s.option("route")
        } ${routing}: the fallback is for prompts the router calls unknown`,
      { option: "fallback" },
    );
  }
}
