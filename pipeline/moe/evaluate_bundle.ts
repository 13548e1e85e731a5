/**
 * Evaluating a bundle on token shards (one GPT: `evaluate_model.ts`, with the same rows): per-class loss and perplexity of the teacher, of each
 * expert alone on every class, of the common expert, of the routed MoE (each sequence routed
 * by its own decoded text, never per batch), of the routed MoE with the common expert, and of
 * oracle routing (each sequence to its true class's expert); with `mix: "router"` also of soft
 * routing (every expert weighted by the router's probabilities for the sequence, see
 * `mixture.ts`: the row `soft`, or `soft+common` for MoE-CE, what `moe generate --mix router`
 * runs).
 *
 * The hard-routed rows carry their routing regret (`routing_regret.ts`): `routed` against the
 * best single expert of each sequence, `routed+common` against the best `k+common`. The report's
 * `routingRules` compares the routing rules on prompt → continuation (`routing_rules.ts`).
 *
 * Every model's per-token losses are computed once per class; the routed and oracle rows then
 * pick, sequence by sequence, whose losses count. `probability-mean` combinations mix per token:
 * `−log(½e^{−a} + ½e^{−b})`; `hidden-mean` ones run their own graph (expert + common stacks).
 * Soft routing likewise: `−log Σₖ wₖe^{−aₖ}` from the experts' losses, or (`hidden-mean`) one
 * graph of every stack whose per-row weights are an input.
 *
 * @module
 */
import { join } from "node:path";
import { type Progress, silentProgress } from "../../core/job/mod.ts";
import { UNKNOWN } from "../../core/routing/mod.ts";
import { openTokens } from "../../core/tokenizer/mod.ts";
import { buildTokenLoss, COMMON } from "../../models/moe.ts";
import { buildRowMixtureLoss } from "../../models/moe_mixture.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import { type ExpertSource, readExpertCheckpoint } from "./assemble.ts";
import type { Bundle } from "./bundle.ts";
import { bundleMixture, combinesCommon, softMix, softRule } from "./mixture_plan.ts";
import { averageLosses, averageRowName, averageRule } from "./uniform_average.ts";
import {
  classRow,
  type EvalOptions,
  type EvalReport,
  type EvalRow,
  type RoutingReport,
  type WindowsEvaluation,
} from "./eval_report.ts";
import { mixLosses, weightedMixLoss } from "./mixture_loss.ts";
import { type Choices, type RowRegret, rowRegret } from "./routing_regret.ts";
import { checkRoutePrefix, compareRoutingRules } from "./routing_rules.ts";
import {
  type ClassData,
  type Losses,
  readClasses,
  type RowWeights,
  tokenLosses,
} from "./token_losses.ts";

/** The router's decision on one sequence. */
interface SequenceRoute {
  label: string;
  best: string;
  probabilities: Record<string, number>;
}

/**
 * Evaluates a loaded bundle (see the module doc).
 *
 * @throws {Error} If the shards were encoded with another tokenizer, lack a class, or the
 *   teacher's tokenizer differs; the message names the file.
 */
export async function evaluateBundle(bundle: Bundle, options: EvalOptions): Promise<EvalReport> {
  const { manifest } = bundle;
  const teacher = await readTeacher(bundle, options);
  const models = [...bundle.experts.values(), ...(bundle.common ? [bundle.common] : [])];
  const contexts = [...models.map((m) => m.config), ...(teacher ? [teacher.config] : [])]
    .map((c) => c.contextLength);
  const seqLen = Math.min(options.seqLen ?? Infinity, ...contexts);
  checkRoutePrefix(options.routePrefix ?? defaultRoutePrefix(seqLen), seqLen);
  const data = await readClasses(options, manifest.classes, seqLen);
  const labels = new Map(manifest.classes.map((c) => [c, c]));
  const scored = await evaluateWindows(bundle, data, seqLen, labels, { ...options, teacher });
  const sequences = Object.fromEntries([...data].map(([c, d]) => [c, d.rows]));
  return { classes: manifest.classes, split: options.split, seqLen, sequences, ...scored };
}

/**
 * The default prompt of the routing rules' comparison: half the sequence.
 *
 * @example
 * ```ts
 * import { defaultRoutePrefix } from "./evaluate_bundle.ts";
 * console.assert(defaultRoutePrefix(64) === 32 && defaultRoutePrefix(1) === 1);
 * ```
 */
export function defaultRoutePrefix(seqLen: number): number {
  return Math.max(1, Math.floor(seqLen / 2));
}

/** How {@linkcode evaluateWindows} runs. */
export type WindowsOptions =
  & Pick<EvalOptions, "batch" | "backend" | "progress" | "mix" | "average" | "routePrefix">
  & { teacher?: ExpertSource | null };

/**
 * Evaluates a bundle on windows of `seqLen` tokens (every position counted), by sequence set:
 * the rows, where the router sent each set, and the routing rules compared.
 *
 * @param data The windows of each set (a class, or a file of documents).
 * @param labels The class of each set's sequences, or null when unknown (no oracle rows, no
 *   routing accuracy, no label metrics then).
 * @throws {RangeError} If the route prefix leaves no continuation.
 */
export async function evaluateWindows(
  bundle: Bundle,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  labels: ReadonlyMap<string, string | null>,
  options: WindowsOptions,
): Promise<WindowsEvaluation> {
  const prefix = options.routePrefix ?? defaultRoutePrefix(seqLen);
  checkRoutePrefix(prefix, seqLen);
  const teacher = options.teacher ?? null;
  const progress = options.progress ?? silentProgress;
  progress.start(graphRuns(bundle, teacher !== null, options) * data.size, "eval");
  const routes = routeSequences(bundle, data, seqLen).routes;
  const losses = await modelLosses(bundle, teacher, routes, data, seqLen, options, progress);
  progress.stop();
  const labelled = [...data.keys()].every((s) => labels.get(s) === s);
  const rows = tableRows(bundle, losses, routes, data, seqLen, labelled);
  const prompts = routeSequences(bundle, data, seqLen, prefix);
  const joins = combinesCommon(bundle);
  const candidates = new Map(bundle.manifest.classes.map((c) => [
    c,
    joins ? losses.withCommon.get(c)! : losses.single.get(`expert:${c}`)!,
  ]));
  const router = new Map([...prompts.routes].map(([s, rs]) => [s, rs.map((r) => r.probabilities)]));
  const routingRules = compareRoutingRules(
    { seqLen, prefix, candidates, router, routerMs: prompts.ms, labels },
    joins ? "expert+common" : "expert",
  );
  return { rows, routing: labelled ? routingReports(routes) : {}, routingRules };
}

/**
 * The teacher to compare with (null without `options.teacher`), after checking that the shards
 * and the teacher use the bundle's tokenizer.
 */
async function readTeacher(bundle: Bundle, options: EvalOptions): Promise<ExpertSource | null> {
  const { manifest } = bundle;
  const shardManifest = await openTokens(options.data);
  if (shardManifest.tokenizer.fingerprint !== manifest.tokenizer.fingerprint) {
    throw new Error(
      `Cannot evaluate on "${
        join(options.data, "manifest.json")
      }": its shards were encoded with another tokenizer than the bundle's`,
    );
  }
  const teacher = options.teacher !== undefined
    ? await readExpertCheckpoint(options.teacher)
    : null;
  if (teacher && teacher.tokenizer.fingerprint !== manifest.tokenizer.fingerprint) {
    throw new Error(
      `Cannot evaluate teacher "${teacher.source}": it uses another tokenizer than the bundle`,
    );
  }
  return teacher;
}

/** How many loss graphs an evaluation runs over every class (the progress bar's units per class). */
function graphRuns(bundle: Bundle, teacher: boolean, options: WindowsOptions): number {
  const softHidden = options.mix === "router" && softRule(bundle) === "hidden-mean";
  const hiddenAverages = (options.average ?? [])
    .filter((m) => averageRule(bundle, m) === "hidden-mean").length;
  const models = bundle.experts.size + (bundle.common ? 1 : 0);
  return models + (teacher ? 1 : 0) + (softHidden ? 1 : 0) + hiddenAverages +
    (bundle.manifest.combine?.rule === "hidden-mean" ? bundle.experts.size : 0);
}

/** Every model's and combination's per-token losses on every class. */
interface ModelLosses {
  /** By row name (`teacher`, `expert:<class>`, `common`). */
  single: Map<string, Map<string, Losses>>;
  /** By class: its expert combined with the common expert (empty without one). */
  withCommon: Map<string, Map<string, Losses>>;
  /** Soft routing (null unless `mix: "router"`). */
  soft: Map<string, Losses> | null;
  /** By row name: the uniform averages. */
  averaged: Map<string, ReadonlyMap<string, Losses>>;
}

/** Runs every model (and combination that needs its own graph) once over every class. */
async function modelLosses(
  bundle: Bundle,
  teacher: ExpertSource | null,
  routes: ReadonlyMap<string, SequenceRoute[]>,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  options: WindowsOptions,
  progress: Progress,
): Promise<ModelLosses> {
  const { manifest } = bundle;
  let done = 0;
  const geometry = { batch: options.batch, seqLen };
  const runModel = async (model: Uint8Array, rowWeights?: RowWeights) => {
    const out = await tokenLosses(options.backend, model, data, geometry, rowWeights);
    progress.update(done += data.size);
    return out;
  };
  const run = (config: GPTConfig, parts: ReadonlyMap<string, Float32Array>[]) =>
    runModel(buildTokenLoss(config, parts, geometry));

  const losses = new Map<string, Map<string, Losses>>();
  if (teacher) losses.set("teacher", await run(teacher.config, [teacher.values]));
  for (const [cls, e] of bundle.experts) {
    losses.set(`expert:${cls}`, await run(e.config, [e.values]));
  }
  const common = bundle.common;
  if (common) losses.set("common", await run(common.config, [common.values]));
  const withCommon = new Map<string, Map<string, Losses>>();
  if (common && manifest.combine?.rule === "hidden-mean") {
    for (const [cls, e] of bundle.experts) {
      withCommon.set(cls, await run(e.config, [e.values, common.values]));
    }
  } else if (common) {
    for (const cls of bundle.experts.keys()) {
      withCommon.set(cls, mixLosses(losses.get(`expert:${cls}`)!, losses.get("common")!));
    }
  }
  const soft = options.mix !== "router"
    ? null
    : softRule(bundle) === "hidden-mean"
    ? await softHiddenLosses(bundle, routes, geometry, runModel)
    : softProbabilityLosses(bundle, routes, losses, data, seqLen);
  const averaged = new Map<string, ReadonlyMap<string, Losses>>();
  for (const members of options.average ?? []) {
    const l = await averageLosses(bundle, members, losses, run, weightedMixLoss);
    averaged.set(averageRowName(members), l);
  }
  return { single: losses, withCommon, soft, averaged };
}

/**
 * The table's rows: for each, whose losses count for each sequence of each class; the oracle
 * rows only when every set is a class's.
 */
function tableRows(
  bundle: Bundle,
  { single: losses, withCommon, soft, averaged }: ModelLosses,
  routes: ReadonlyMap<string, SequenceRoute[]>,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  oracle: boolean,
): EvalRow[] {
  const common = bundle.common;
  const fallback = (label: string, best: string) =>
    label === UNKNOWN ? (bundle.manifest.fallback === "common" && common ? "common" : best) : label;
  const rows: EvalRow[] = [];
  const add = (name: string, pick: (cls: string, row: number) => Losses, regret?: RowRegret) =>
    rows.push({ ...classRow(name, data, seqLen, pick), ...(regret ? { regret } : {}) });
  // A hard-routed row: its choices' losses, and its choice for each sequence.
  const sets = new Map([...data].map(([s, d]) => [s, d.rows]));
  const hard = (name: string, choices: Choices, to: (route: SequenceRoute) => string) => {
    const choice = (cls: string, r: number) => to(routes.get(cls)![r]!);
    add(
      name,
      (cls, r) => choices.get(choice(cls, r))!.get(cls)!,
      rowRegret(sets, seqLen, choices, choice),
    );
  };
  for (const name of losses.keys()) add(name, (cls) => losses.get(name)!.get(cls)!);
  // `routed` chooses among the experts, and the common expert when it is the fallback.
  const experts = new Map<string, ReadonlyMap<string, Losses>>(
    bundle.manifest.classes.map((c) => [c, losses.get(`expert:${c}`)!]),
  );
  if (common && bundle.manifest.fallback === "common") experts.set("common", losses.get("common")!);
  hard("routed", experts, (route) => fallback(route.label, route.best));
  if (common) {
    // `routed+common`: each `k+common`, or the common expert alone for `unknown`.
    const joined = new Map<string, ReadonlyMap<string, Losses>>([
      ...withCommon,
      ["common", losses.get("common")!],
    ]);
    hard("routed+common", joined, (route) => route.label === UNKNOWN ? "common" : route.label);
  }
  if (soft) add(combinesCommon(bundle) ? "soft+common" : "soft", (cls) => soft.get(cls)!);
  for (const [name, l] of averaged) add(name, (cls) => l.get(cls)!);
  if (oracle) add("oracle", (cls) => losses.get(`expert:${cls}`)!.get(cls)!);
  if (oracle && common) add("oracle+common", (cls) => withCommon.get(cls)!.get(cls)!);
  return rows;
}

/** Per class: the share of its sequences routed to it, and the count per label. */
function routingReports(
  routes: ReadonlyMap<string, SequenceRoute[]>,
): Record<string, RoutingReport> {
  const routing: Record<string, RoutingReport> = {};
  for (const [cls, rs] of routes) {
    const counts: Record<string, number> = {};
    for (const r of rs) counts[r.label] = (counts[r.label] ?? 0) + 1;
    routing[cls] = { accuracy: (counts[cls] ?? 0) / Math.max(1, rs.length), counts };
  }
  return routing;
}

/**
 * Soft routing with shared embeddings: one graph of every stack (classes, and common for
 * MoE-CE) whose per-row weights are each sequence's {@linkcode softMix} (rows past the data,
 * padding, get equal weights).
 */
function softHiddenLosses(
  bundle: Bundle,
  routes: ReadonlyMap<string, SequenceRoute[]>,
  geometry: { batch: number; seqLen: number },
  runModel: (model: Uint8Array, rowWeights: RowWeights) => Promise<Map<string, Losses>>,
): Promise<Map<string, Losses>> {
  const names = [...bundle.manifest.classes, ...(combinesCommon(bundle) ? [COMMON] : [])];
  const S = names.length, B = geometry.batch;
  const equal = Object.fromEntries(names.map((n) => [n, 1 / S]));
  const mixture = bundleMixture(bundle, { weights: equal, rule: "hidden-mean" });
  return runModel(buildRowMixtureLoss(mixture, geometry), (cls, b) => {
    const w = new Float32Array(B * S).fill(1 / S);
    const rs = routes.get(cls)!;
    for (let r = 0; r < B && b * B + r < rs.length; r++) {
      const { weights } = softMix(bundle, rs[b * B + r]!.probabilities);
      names.forEach((n, s) => w[r * S + s] = weights[n] ?? 0);
    }
    return w;
  });
}

/**
 * Soft routing with separate embeddings: per token `−log Σₖ wₖ e^{−aₖ}` from each stack's own
 * losses `aₖ` and the sequence's {@linkcode softMix} weights.
 */
function softProbabilityLosses(
  bundle: Bundle,
  routes: ReadonlyMap<string, SequenceRoute[]>,
  losses: ReadonlyMap<string, Map<string, Losses>>,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
): Map<string, Losses> {
  const out = new Map<string, Losses>();
  for (const [cls, d] of data) {
    const mixed = new Float32Array(d.rows * seqLen);
    routes.get(cls)!.forEach((route, r) => {
      const parts = Object.entries(softMix(bundle, route.probabilities).weights).map((
        [name, w],
      ) => ({ w, l: losses.get(name === COMMON ? COMMON : `expert:${name}`)!.get(cls)! }));
      for (let t = r * seqLen; t < (r + 1) * seqLen; t++) {
        mixed[t] = weightedMixLoss(parts.map((p) => p.l[t]!), parts.map((p) => p.w));
      }
    });
    out.set(cls, mixed);
  }
  return out;
}

/**
 * The router's decision for every sequence, on the text its first `length` input tokens decode
 * to (default: all), and the router's time per sequence (ms, decoding left out).
 */
function routeSequences(
  bundle: Bundle,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  length = seqLen,
): { routes: Map<string, SequenceRoute[]>; ms: number } {
  const routes = new Map<string, SequenceRoute[]>();
  const ids = new Array<number>(length);
  let elapsed = 0, count = 0;
  for (const [cls, d] of data) {
    const out: SequenceRoute[] = [];
    for (const b of d.batches) {
      for (let r = 0; r < b.count / seqLen; r++) {
        for (let t = 0; t < length; t++) ids[t] = Number(b.tokens[r * seqLen + t]!);
        const text = bundle.tokenizer.decode(ids);
        const start = performance.now();
        const route = bundle.router.route(text, bundle.manifest.router.minConfidence);
        elapsed += performance.now() - start;
        count++;
        out.push({ label: route.label, best: route.best, probabilities: route.probabilities });
      }
    }
    routes.set(cls, out);
  }
  return { routes, ms: elapsed / Math.max(1, count) };
}
