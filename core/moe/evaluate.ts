/**
 * Evaluating a bundle on token shards (one GPT: `evaluate_model.ts`, with the same rows): per-class loss and perplexity of the teacher, of each
 * expert alone on every class, of the common expert, of the routed MoE (each sequence routed
 * by its own decoded text, never per batch), of the routed MoE with the common expert, and of
 * oracle routing (each sequence to its true class's expert); with `mix: "router"` also of soft
 * routing (every expert weighted by the router's probabilities for the sequence, see
 * `mixture.ts`: the row `soft`, or `soft+common` for MoE-CE, what `moe generate --mix router`
 * runs).
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
import { type Progress, silentProgress } from "../cli/mod.ts";
import { UNKNOWN } from "../routing/mod.ts";
import type { Backend, HostTensor } from "../runtime/mod.ts";
import { openShard, openTokens, type TokenShard } from "../tokenizer/mod.ts";
import { evalBatches } from "../training/mod.ts";
import { buildTokenLoss, COMMON } from "../../models/moe.ts";
import { buildRowMixtureLoss } from "../../models/moe_mixture.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import { readExpertCheckpoint } from "./assemble.ts";
import type { Bundle } from "./bundle.ts";
import { bundleMixture, combinesCommon, type MixMode, softMix, softRule } from "./mixture.ts";
import { averageLosses, averageRowName, averageRule } from "./uniform_average.ts";

/** What to evaluate on. */
export interface EvalOptions {
  /** Token shard directory (`moe tokenizer encode`). */
  data: string;
  split: string;
  /** Sequences per class. */
  rows: number;
  /** Rows per graph run. */
  batch: number;
  /** Tokens per sequence (default: the smallest context of the models). */
  seqLen?: number;
  /** A teacher run or checkpoint to compare with. */
  teacher?: string;
  backend: Backend;
  progress?: Progress;
  /** `route` (default): the rows above; `router`: also soft routing. */
  mix?: MixMode;
  /**
   * Uniform averages of expert subsets (`uniform_average.ts`, from `parseAverage`): one row
   * `avg(en+py)` each, every member weighing 1/k for every sequence (the paper's evaluation).
   */
  average?: readonly (readonly string[])[];
}

/** Loss (mean nats per token) and perplexity. */
export interface Score {
  loss: number;
  ppl: number;
}

/** One model's scores on every class. */
export interface EvalRow {
  /**
   * `teacher`, `expert:<class>`, `common`, `routed`, `routed+common`, `soft`, `soft+common`,
   * `avg(<members>)` (uniform averages), `oracle`, `oracle+common`.
   */
  name: string;
  perClass: Record<string, Score>;
  /** Mean of the per-class losses (and its perplexity). */
  mean: Score;
}

/** Where the router sent each class's sequences. */
export interface RoutingReport {
  /** Share of sequences routed to their own class. */
  accuracy: number;
  /** Sequences per label (classes and `unknown`). */
  counts: Record<string, number>;
}

/** Everything `moe eval` reports. */
export interface EvalReport {
  classes: string[];
  split: string;
  seqLen: number;
  /** Sequences evaluated per class. */
  sequences: Record<string, number>;
  rows: EvalRow[];
  routing: Record<string, RoutingReport>;
}

/** Per-token losses of one model on one class: `[rows, T]`, 0 where not counted. */
export type Losses = Float32Array;

/** The router's decision on one sequence. */
interface SequenceRoute {
  label: string;
  best: string;
  probabilities: Record<string, number>;
}

/** The windows of one class (or one text) in batches, and how many tokens count. */
export interface ClassData {
  /** `[B, T]` tokens and targets (−1: not counted); `count`: the rows it fills × T. */
  batches: { tokens: BigInt64Array; targets: BigInt64Array; count: number }[];
  /** Windows. */
  rows: number;
  /** Counted targets. */
  tokens: number;
}

/**
 * Evaluates a loaded bundle (see the module doc).
 *
 * @throws {Error} If the shards were encoded with another tokenizer, lack a class, or the
 *   teacher's tokenizer differs; the message names the file.
 */
export async function evaluateBundle(bundle: Bundle, options: EvalOptions): Promise<EvalReport> {
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
  const models = [...bundle.experts.values(), ...(bundle.common ? [bundle.common] : [])];
  const contexts = [...models.map((m) => m.config), ...(teacher ? [teacher.config] : [])]
    .map((c) => c.contextLength);
  const seqLen = Math.min(options.seqLen ?? Infinity, ...contexts);
  const data = await readClasses(options, manifest.classes, seqLen);
  const progress = options.progress ?? silentProgress;
  const soft = options.mix === "router";
  const softHidden = soft && softRule(bundle) === "hidden-mean";
  const averages = options.average ?? [];
  const hiddenAverages = averages.filter((m) => averageRule(bundle, m) === "hidden-mean").length;
  const units = (models.length + (teacher ? 1 : 0) + (softHidden ? 1 : 0) + hiddenAverages +
    (manifest.combine?.rule === "hidden-mean" ? bundle.experts.size : 0)) * manifest.classes.length;
  progress.start(units, "eval");
  let done = 0;
  const geometry = { batch: options.batch, seqLen };
  const runModel = async (model: Uint8Array, rowWeights?: RowWeights) => {
    const out = await tokenLosses(options.backend, model, data, geometry, rowWeights);
    progress.update(done += manifest.classes.length);
    return out;
  };
  const run = (config: GPTConfig, parts: ReadonlyMap<string, Float32Array>[]) =>
    runModel(buildTokenLoss(config, parts, geometry));
  const routes = routeSequences(bundle, data, seqLen);

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
  const softLosses = !soft
    ? null
    : softHidden
    ? await softHiddenLosses(bundle, routes, geometry, runModel)
    : softProbabilityLosses(bundle, routes, losses, data, seqLen);
  const averaged = new Map<string, ReadonlyMap<string, Losses>>();
  for (const members of averages) {
    const l = await averageLosses(bundle, members, losses, run, weightedMixLoss);
    averaged.set(averageRowName(members), l);
  }
  progress.stop();

  const fallback = (label: string, best: string) =>
    label === UNKNOWN ? (manifest.fallback === "common" && common ? "common" : best) : label;
  const rows: EvalRow[] = [];
  const add = (name: string, pick: (cls: string, row: number) => Losses) =>
    rows.push(classRow(name, data, seqLen, pick));
  for (const name of losses.keys()) add(name, (cls) => losses.get(name)!.get(cls)!);
  add("routed", (cls, r) => {
    const route = routes.get(cls)![r]!;
    const to = fallback(route.label, route.best);
    return (to === "common" ? losses.get("common")! : losses.get(`expert:${to}`)!).get(cls)!;
  });
  if (common) {
    add("routed+common", (cls, r) => {
      const route = routes.get(cls)![r]!;
      const to = route.label === UNKNOWN ? null : route.label;
      return (to ? withCommon.get(to)! : losses.get("common")!).get(cls)!;
    });
  }
  if (softLosses) {
    add(combinesCommon(bundle) ? "soft+common" : "soft", (cls) => softLosses.get(cls)!);
  }
  for (const [name, l] of averaged) add(name, (cls) => l.get(cls)!);
  add("oracle", (cls) => losses.get(`expert:${cls}`)!.get(cls)!);
  if (common) add("oracle+common", (cls) => withCommon.get(cls)!.get(cls)!);

  const routing: Record<string, RoutingReport> = {};
  for (const [cls, rs] of routes) {
    const counts: Record<string, number> = {};
    for (const r of rs) counts[r.label] = (counts[r.label] ?? 0) + 1;
    routing[cls] = { accuracy: (counts[cls] ?? 0) / Math.max(1, rs.length), counts };
  }
  const sequences = Object.fromEntries([...data].map(([c, d]) => [c, d.rows]));
  return { classes: manifest.classes, split: options.split, seqLen, sequences, rows, routing };
}

/**
 * One row of the table: per class, the mean of the counted per-token losses of each sequence's
 * pick (the model whose losses count for sequence `row` of class `cls`), and their mean.
 */
export function classRow(
  name: string,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
  pick: (cls: string, row: number) => Losses,
): EvalRow {
  const perClass: Record<string, Score> = {};
  for (const [cls, d] of data) {
    let sum = 0;
    for (let r = 0; r < d.rows; r++) {
      const l = pick(cls, r);
      for (let t = r * seqLen; t < (r + 1) * seqLen; t++) sum += l[t]!;
    }
    perClass[cls] = score(sum / Math.max(1, d.tokens));
  }
  const mean = Object.values(perClass).reduce((s, v) => s + v.loss, 0) / data.size;
  return { name, perClass, mean: score(mean) };
}

/**
 * A loss in nats per token with its perplexity.
 *
 * @example
 * ```ts
 * import { score } from "./evaluate.ts";
 * console.assert(score(Math.LN2).ppl === 2);
 * ```
 */
export function score(loss: number): Score {
  return { loss, ppl: Math.exp(loss) };
}

/** The first `rows` windows of each class's shard of `split`, in batches. */
export async function readClasses(
  options: EvalOptions,
  classes: readonly string[],
  seqLen: number,
): Promise<Map<string, ClassData>> {
  const out = new Map<string, ClassData>();
  for (const cls of classes) {
    const path = join(options.data, options.split, `${cls}.bin`);
    let shard: TokenShard;
    try {
      shard = await openShard(path);
    } catch (error) {
      throw new Error(
        `Cannot evaluate class "${cls}": cannot open "${path}" (${(error as Error).message})`,
      );
    }
    try {
      const batches = await evalBatches(shard, options.batch, seqLen, options.rows);
      const tokens = batches.reduce((s, b) => s + b.count, 0);
      if (tokens === 0) {
        throw new Error(
          `Cannot evaluate class "${cls}": "${path}" is shorter than one sequence of ${
            seqLen + 1
          } tokens`,
        );
      }
      out.set(cls, { batches, rows: tokens / seqLen, tokens });
    } finally {
      shard.close();
    }
  }
  return out;
}

/** The `weights [B, S]` input of a row-mixture graph for batch `b` of class `cls`. */
export type RowWeights = (cls: string, b: number) => Float32Array;

/**
 * Per-token losses of one loss graph (`tokens`, `targets` [, `weights`] → `nll`) on every
 * class (or any windows keyed by name).
 *
 * @param model A loss graph (e.g. `buildTokenLoss`).
 * @param data Windows in batches of `geometry`.
 * @param rowWeights The `weights` input of a row-mixture graph, per batch.
 * @returns `[rows, T]` losses per key, 0 where not counted.
 */
export async function tokenLosses(
  backend: Backend,
  model: Uint8Array,
  data: ReadonlyMap<string, ClassData>,
  geometry: { batch: number; seqLen: number },
  rowWeights?: RowWeights,
): Promise<Map<string, Losses>> {
  const { batch, seqLen } = geometry;
  const session = await backend.createSession(model);
  const int64 = (d: BigInt64Array): HostTensor => ({
    dtype: "int64",
    dims: [batch, seqLen],
    data: d,
  });
  const out = new Map<string, Losses>();
  try {
    for (const [cls, d] of data) {
      const all = new Float32Array(d.rows * seqLen);
      let at = 0;
      for (const [i, b] of d.batches.entries()) {
        const feeds = {
          tokens: session.wrap(int64(b.tokens)),
          targets: session.wrap(int64(b.targets)),
        };
        if (rowWeights) {
          const w = rowWeights(cls, i);
          Object.assign(feeds, {
            weights: session.wrap({ dtype: "float32", dims: [batch, w.length / batch], data: w }),
          });
        }
        const r = await session.run(feeds);
        const nll = (await session.download(r.nll!)).data as Float32Array;
        all.set(nll.subarray(0, b.count), at);
        at += b.count;
      }
      out.set(cls, all);
    }
  } finally {
    await session.dispose();
  }
  return out;
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
 * Per-token loss of a weighted mixture of next-token distributions from each one's loss:
 * `−log Σᵢ wᵢe^{−aᵢ} = m − log Σᵢ wᵢe^{−(aᵢ − m)}` with `m = minᵢ aᵢ` (no term underflows).
 *
 * @example
 * ```ts
 * import { weightedMixLoss } from "./evaluate.ts";
 * console.assert(Math.abs(weightedMixLoss([2, 2, 2], [0.2, 0.3, 0.5]) - 2) < 1e-12);
 * console.assert(weightedMixLoss([0.5, 9], [1, 0]) === 0.5);
 * ```
 */
export function weightedMixLoss(losses: readonly number[], weights: readonly number[]): number {
  const m = Math.min(...losses);
  let sum = 0;
  losses.forEach((a, i) => sum += weights[i]! * Math.exp(m - a));
  return m - Math.log(sum);
}

/**
 * Per-token loss of the equal mixture of two next-token distributions, from each one's loss:
 * `−log(½e^{−a} + ½e^{−b}) = min(a, b) + ln 2 − log1p(e^{−|a − b|})`.
 */
export function mixLoss(a: number, b: number): number {
  return Math.min(a, b) + Math.LN2 - Math.log1p(Math.exp(-Math.abs(a - b)));
}

function mixLosses(a: Map<string, Losses>, b: Map<string, Losses>): Map<string, Losses> {
  const out = new Map<string, Losses>();
  for (const [cls, la] of a) {
    const lb = b.get(cls)!;
    out.set(cls, la.map((x, i) => mixLoss(x, lb[i]!)));
  }
  return out;
}

/** The router's decision for every sequence, on the text its input tokens decode to. */
function routeSequences(
  bundle: Bundle,
  data: ReadonlyMap<string, ClassData>,
  seqLen: number,
): Map<string, SequenceRoute[]> {
  const out = new Map<string, SequenceRoute[]>();
  const ids = new Array<number>(seqLen);
  for (const [cls, d] of data) {
    const routes: SequenceRoute[] = [];
    for (const b of d.batches) {
      for (let r = 0; r < b.count / seqLen; r++) {
        for (let t = 0; t < seqLen; t++) ids[t] = Number(b.tokens[r * seqLen + t]!);
        const route = bundle.router.route(
          bundle.tokenizer.decode(ids),
          bundle.manifest.router.minConfidence,
        );
        routes.push({ label: route.label, best: route.best, probabilities: route.probabilities });
      }
    }
    out.set(cls, routes);
  }
  return out;
}

/**
 * The report as a markdown table: one row per model, `loss / ppl` per class and their mean,
 * then (for a bundle) the routing accuracy per class.
 */
export function formatEvalTable(report: EvalReport): string {
  const head = ["model", ...report.classes, "mean"];
  const cell = (s: Score) => `${s.loss.toFixed(3)} / ${s.ppl.toFixed(2)}`;
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...report.rows.map((r) =>
      `| ${
        [r.name, ...report.classes.map((c) => cell(r.perClass[c]!)), cell(r.mean)].join(" | ")
      } |`
    ),
  ];
  // A single model has no router (its report's routing is empty).
  if (Object.keys(report.routing).length > 0) {
    lines.push(
      `| routing accuracy | ${
        report.classes.map((c) => `${(100 * report.routing[c]!.accuracy).toFixed(1)} %`).join(
          " | ",
        )
      } | |`,
    );
  }
  return lines.join("\n");
}
