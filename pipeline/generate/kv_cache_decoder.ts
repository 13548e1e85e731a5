/**
 * The KV-cache {@linkcode Decoder}: a prefill graph and a one-token graph (see
 * `models/gpt_kv_cache.ts`) sharing one cache. With the cache on the device (webgpu) the graphs'
 * `present → past` bindings keep it, and the parameters, in GPU buffers over one state store;
 * with the cache on the host (cpu, wasm) the graphs return only the new tokens' keys and values,
 * which are written into host arrays fed in place on the next run. Either way a step moves one
 * token id in and one logits row out, plus (host) a few hundred floats per layer.
 *
 * Per token the host path makes no tensors of its own: each graph's feeds are wrapped once over
 * arrays that the decoder rewrites in place (token ids, position, the cache), and the one-token
 * graph runs on a single intra-op thread (see {@linkcode KVCacheDecoderSpec.stepThreads}).
 *
 * @module
 */
import {
  type Backend,
  type DeviceTensor,
  type HostTensor,
  type InitialValue,
  StateStore,
  TrainingStep,
} from "../../core/runtime/mod.ts";
import type { GenerationGraph, KVRows } from "../../models/gpt_kv_cache.ts";
import { checkPrefill, checkStep, type Decoder, type ScoredPrefill } from "./decoder.ts";

/** What a {@linkcode KVCacheDecoder} runs. */
export interface KVCacheDecoderSpec {
  /**
   * Cache graphs: one of length 1 (steps) and at least one longer (prefill: the whole context,
   * and optionally shorter chunks). All bind (or return rows of) the same cache.
   */
  graphs: readonly GenerationGraph[];
  /**
   * Initial values: the empty cache (every `past.*` input), and the parameters when they are
   * graph inputs. With host rows, the `past.*` arrays are the cache itself.
   */
  state: ReadonlyMap<string, InitialValue>;
  contextLength: number;
  vocabSize: number;
  /**
   * Intra-op threads of the one-token graph's session on cpu (default 1). A step is a chain of
   * ~170 small ops, matrix-vector products at most, so a thread pool that wakes for each op
   * costs more than it shares (bench config, 2-core box: a step takes 2–3× longer on 2 threads
   * than on 1). The prefill graphs use the backend's threads, with spinning off: their idle
   * threads would otherwise spin beside every step.
   */
  stepThreads?: number;
}

/** The input and output of a scored prefill graph (see `outputPromptLogProb`). */
const TARGETS = "targets", PROMPT_LOGPROB = "prompt_logprob";

/** A decoder that keeps every layer's keys and values between tokens. */
export class KVCacheDecoder implements Decoder {
  #length = 0;
  /** The scored rows' log-likelihood summed over the runs of the current prefill. */
  #logprob = 0;

  private constructor(
    private readonly steps: readonly Loaded[],
    private readonly store: StateStore,
    /** The cache in host memory by input name (empty when it lives on the device). */
    private readonly hostCache: ReadonlyMap<string, HostTensor & { dtype: "float32" }>,
    readonly contextLength: number,
    readonly vocabSize: number,
  ) {}

  /**
   * Loads the graphs on `backend` and uploads the parameters once.
   *
   * @throws {RangeError} If no graph has length 1 or none is longer, or a host cache has no
   *   initial value.
   */
  static async create(backend: Backend, spec: KVCacheDecoderSpec): Promise<KVCacheDecoder> {
    const graphs = [...spec.graphs].sort((a, b) => a.length - b.length);
    if (graphs[0]?.length !== 1 || graphs.length < 2) {
      throw new RangeError(
        "Cannot build a KV-cache decoder: it needs a 1-token graph and a prefill graph",
      );
    }
    const hostNames = new Set(graphs.flatMap((g) => g.rows.map((r) => r.input)));
    const hostCache = new Map<string, HostTensor & { dtype: "float32" }>();
    const deviceState = new Map<string, InitialValue>();
    for (const [name, value] of spec.state) {
      if (!hostNames.has(name)) deviceState.set(name, value);
      else if (!(value instanceof Float32Array) && value.dtype === "float32") {
        hostCache.set(name, { dtype: "float32", dims: value.dims, data: value.data.slice() });
      }
    }
    const missing = [...hostNames].filter((n) => !hostCache.has(n));
    if (missing.length > 0) {
      throw new RangeError(`Cannot build a KV-cache decoder: no float32 cache for "${missing[0]}"`);
    }
    const store = new StateStore();
    const steps: Loaded[] = [];
    try {
      for (const graph of graphs) {
        const step = await TrainingStep.create(backend, graph.model, {
          bindings: graph.bindings,
          state: deviceState,
          store,
          lossOutput: "logits",
          // The prefill graphs keep the backend's threads, idle between runs (see the spec).
          session: graph.length === 1 ? { threads: spec.stepThreads ?? 1 } : { spinning: false },
        });
        steps.push({ graph, step, feeds: hostFeeds(graph, step, hostCache) });
      }
    } catch (error) {
      store.dispose();
      for (const s of steps) await s.step.dispose();
      throw error;
    }
    return new KVCacheDecoder(steps, store, hostCache, spec.contextLength, spec.vocabSize);
  }

  get length(): number {
    return this.#length;
  }

  /**
   * Reads `ids` with the cheapest plan: one run of the whole-context graph, or consecutive runs
   * of a shorter chunk graph at positions 0, L, 2L, … (each writes its L slots and attends to
   * the earlier ones), whichever processes fewer padded tokens.
   */
  async prefill(ids: ArrayLike<number>): Promise<Float32Array> {
    return await this.#prefill(ids, false);
  }

  /**
   * Prefills as {@linkcode prefill} and sums the prompt's log-likelihood over the same runs.
   *
   * @throws {RangeError} If the decoder's prefill graphs were built without `score`.
   */
  async prefillScored(ids: ArrayLike<number>): Promise<ScoredPrefill> {
    if (!this.steps.every((s) => s.graph.length === 1 || scores(s))) {
      throw new RangeError("Cannot score the prompt: the decoder was opened without scoring");
    }
    const logits = await this.#prefill(ids, true);
    return { logits, logLikelihood: this.#logprob };
  }

  async #prefill(ids: ArrayLike<number>, score: boolean): Promise<Float32Array> {
    checkPrefill(ids, this.contextLength);
    this.#logprob = 0;
    const n = ids.length, ctx = this.contextLength;
    const cost = (L: number) => (L === ctx ? ctx : Math.ceil(n / L) * L);
    const usable = this.steps.filter((s) => s.graph.length > 1 && cost(s.graph.length) <= ctx);
    // Fewest padded tokens; on a tie, the longer graph (fewer runs).
    const chosen =
      usable.sort((a, b) =>
        cost(a.graph.length) - cost(b.graph.length) || b.graph.length - a.graph.length
      )[0] ?? this.steps.at(-1)!;
    const L = chosen.graph.length;
    let logits: Float32Array = new Float32Array();
    let at = 0;
    for (; at < n && at + L <= ctx; at += L) {
      const m = Math.min(L, n - at);
      // The padding (id 0) fills slots ≥ n, which no token sees before a step overwrites them.
      const chunk = Array.from({ length: m }, (_, i) => ids[at + i]!);
      // Row i predicts token at+i+1; the prompt's last token and the padding are not scored.
      const targets = score
        ? Array.from({ length: L }, (_, i) => (i < m && at + i + 1 < n ? ids[at + i + 1]! : -1))
        : null;
      logits = await this.#run(chosen, chunk, at, m - 1, targets);
      this.#length = at + m;
    }
    // Only without a whole-context graph: what the chunks cannot hold goes one token at a time.
    for (let i = this.#length; i < n; i++) {
      if (score) this.#logprob += logSoftmaxAt(logits, ids[i]!);
      logits = await this.step(ids[i]!);
    }
    return logits;
  }

  async step(id: number): Promise<Float32Array> {
    checkStep(this.#length, this.contextLength);
    const logits = await this.#run(this.steps[0]!, [id], this.#length, 0);
    this.#length++;
    return logits;
  }

  /**
   * Where the device state lives (`gpu-buffer` on webgpu, `cpu` elsewhere), by name; a host
   * cache is listed as `host`.
   */
  locations(): Record<string, string> {
    const out = this.steps[0]!.step.locations();
    for (const name of this.hostCache.keys()) out[name] = "host";
    return out;
  }

  /**
   * Runs `ids` at `position…` and returns the logits of row `last`; with `targets` (a scored
   * graph's, one per row), adds the rows' log-likelihood to the prefill's.
   */
  async #run(
    run: Loaded,
    ids: ArrayLike<number>,
    position: number,
    last: number,
    targets: readonly number[] | null = null,
  ): Promise<Float32Array> {
    if (run.feeds === null) return await this.#runBound(run, ids, position, last, targets);
    const { tokens, position: at, last: row, targets: scored, tensors } = run.feeds;
    tokens.fill(0n);
    for (let i = 0; i < ids.length; i++) tokens[i] = BigInt(ids[i]!);
    at[0] = BigInt(position);
    row[0] = BigInt(last);
    // A scored graph run by a plain prefill scores nothing.
    if (scored !== null) scored.forEach((_, i) => scored[i] = BigInt(targets?.[i] ?? -1));
    const { session } = run.step;
    const results = await session.run(tensors);
    try {
      for (const r of run.graph.rows) this.#write(r, await hostData(results[r.output]!), position);
      if (targets !== null) this.#logprob += (await hostData(results[PROMPT_LOGPROB]!))[0]!;
      return await hostData(results.logits!);
    } finally {
      for (const t of Object.values(results)) session.release(t);
    }
  }

  /** The cache on the device: the runner feeds each `present` back as the next `past`. */
  async #runBound(
    run: Loaded,
    ids: ArrayLike<number>,
    position: number,
    last: number,
    targets: readonly number[] | null,
  ): Promise<Float32Array> {
    const tokens = new BigInt64Array(run.graph.length);
    for (let i = 0; i < ids.length; i++) tokens[i] = BigInt(ids[i]!);
    const int64 = (data: BigInt64Array, dims: number[]): HostTensor => ({
      dtype: "int64",
      dims,
      data,
    });
    const rows = Array.from({ length: run.graph.length }, (_, i) => BigInt(targets?.[i] ?? -1));
    const { outputs } = await run.step.run({
      tokens: int64(tokens, [1, tokens.length]),
      position: int64(BigInt64Array.of(BigInt(position)), [1]),
      last: int64(BigInt64Array.of(BigInt(last)), [1]),
      ...(scores(run) ? { [TARGETS]: int64(BigInt64Array.from(rows), [rows.length]) } : {}),
    });
    if (targets !== null) this.#logprob += Number(outputs[PROMPT_LOGPROB]!.data[0]);
    return outputs.logits!.data as Float32Array;
  }

  /** Writes the new rows into the host cache at `position…` along the context axis. */
  #write(r: KVRows, src: Float32Array, position: number): void {
    const cache = this.hostCache.get(r.input)!;
    const ctx = cache.dims[r.axis]!;
    const inner = cache.dims.slice(r.axis + 1).reduce((a, b) => a * b, 1);
    const outer = cache.dims.slice(0, r.axis).reduce((a, b) => a * b, 1);
    const T = src.length / (outer * inner), dst = cache.data;
    const count = Math.min(T, ctx - position) * inner;
    for (let o = 0; o < outer; o++) {
      // [outer, T, inner] → [outer, ctx, inner] at row `position`
      const from = o * T * inner, to = (o * ctx + position) * inner;
      if (inner === 1) { for (let i = 0; i < count; i++) dst[to + i] = src[from + i]!; }
      else dst.set(src.subarray(from, from + count), to);
    }
  }

  async dispose(): Promise<void> {
    // Subtle: device tensors go before the sessions that made them (onnxruntime-web crashes
    // releasing a GPU-buffer output of a released session).
    this.store.dispose();
    for (const s of this.steps) await s.step.dispose();
  }
}

/** A loaded graph; `feeds` when the cache is on the host. */
interface Loaded {
  graph: GenerationGraph;
  step: TrainingStep;
  feeds: HostFeeds | null;
}

/** Every input of a host-cache graph, wrapped once over arrays rewritten in place per run. */
interface HostFeeds {
  tokens: BigInt64Array;
  position: BigInt64Array;
  last: BigInt64Array;
  /** A scored graph's targets; null for the others. */
  targets: BigInt64Array | null;
  tensors: Record<string, DeviceTensor>;
}

/** Whether a loaded graph scores its rows (built with `score`). */
function scores(run: { step: TrainingStep }): boolean {
  return run.step.session.inputs.some((i) => i.name === TARGETS);
}

/** `log softmax(logits)[id]` in float64. */
function logSoftmaxAt(logits: Float32Array, id: number): number {
  let top = -Infinity, sum = 0;
  for (const l of logits) top = Math.max(top, l);
  for (const l of logits) sum += Math.exp(l - top);
  return logits[id]! - top - Math.log(sum);
}

/**
 * The feeds of a graph whose cache is on the host (no `present → past` bindings): the held
 * parameters, the host cache arrays and the three int64 inputs, each wrapped once. onnxruntime
 * reads an input's array when it runs, so rewriting the arrays is all a run needs.
 */
function hostFeeds(
  graph: GenerationGraph,
  step: TrainingStep,
  hostCache: ReadonlyMap<string, HostTensor>,
): HostFeeds | null {
  if (graph.bindings.length > 0) return null;
  const { session, store } = step;
  const tokens = new BigInt64Array(graph.length);
  const position = new BigInt64Array(1), last = new BigInt64Array(1);
  const tensors: Record<string, DeviceTensor> = {
    tokens: session.wrap({ dtype: "int64", dims: [1, graph.length], data: tokens }),
    position: session.wrap({ dtype: "int64", dims: [1], data: position }),
    last: session.wrap({ dtype: "int64", dims: [1], data: last }),
  };
  for (const { name } of session.inputs) {
    const held = store.get(name);
    if (held !== undefined) tensors[name] = held;
  }
  for (const r of graph.rows) tensors[r.input] = session.wrap(hostCache.get(r.input)!);
  const targets = scores({ step }) ? new BigInt64Array(graph.length).fill(-1n) : null;
  if (targets !== null) {
    tensors[TARGETS] = session.wrap({ dtype: "int64", dims: [graph.length], data: targets });
  }
  return { tokens, position, last, targets, tensors };
}

/** The float32 data of an output in host memory (no copy when it is already there). */
async function hostData(tensor: DeviceTensor): Promise<Float32Array> {
  return (tensor.location === "cpu" ? tensor.data : await tensor.getData()) as Float32Array;
}
