/**
 * The full-recompute {@linkcode Decoder}: every token runs the whole context through the model
 * (no cache). The baseline of `deno task bench generate` and the oracle of the KV-cache tests.
 *
 * @module
 */
import { type Backend, type InitialValue, TrainingStep } from "../../core/runtime/mod.ts";
import type { GenerationGraph } from "../../models/gpt_kv_cache.ts";
import { checkPrefill, checkStep, type Decoder, type ScoredPrefill } from "./decoder.ts";

/** A decoder that recomputes the whole window for every token. */
export class RecomputeDecoder implements Decoder {
  #ids: number[] = [];

  private constructor(
    private readonly runner: TrainingStep,
    readonly contextLength: number,
    readonly vocabSize: number,
  ) {}

  /**
   * Loads the recompute graph (`tokens [1, ctx]`, `last [1]` → `logits [1, V]`).
   *
   * @param graph From `buildGPTRecomputeGraph`.
   * @param parameters Its parameter inputs (empty when they are initializers).
   */
  static async create(
    backend: Backend,
    graph: GenerationGraph,
    parameters: ReadonlyMap<string, InitialValue>,
    vocabSize: number,
  ): Promise<RecomputeDecoder> {
    const runner = await TrainingStep.create(backend, graph.model, {
      bindings: [],
      state: parameters,
      lossOutput: "logits",
    });
    return new RecomputeDecoder(runner, graph.length, vocabSize);
  }

  get length(): number {
    return this.#ids.length;
  }

  prefill(ids: ArrayLike<number>): Promise<Float32Array> {
    checkPrefill(ids, this.contextLength);
    this.#ids = Array.from(ids);
    return this.#run();
  }

  /**
   * Prefills and scores `ids` one prefix at a time (a run per token, float64 sums): the
   * reference path, as slow as the rest of this decoder.
   */
  async prefillScored(ids: ArrayLike<number>): Promise<ScoredPrefill> {
    checkPrefill(ids, this.contextLength);
    let logLikelihood = 0;
    this.#ids = [ids[0]!];
    let logits = await this.#run();
    for (let t = 1; t < ids.length; t++) {
      let top = -Infinity, sum = 0;
      for (const l of logits) top = Math.max(top, l);
      for (const l of logits) sum += Math.exp(l - top);
      logLikelihood += logits[ids[t]!]! - top - Math.log(sum);
      this.#ids.push(ids[t]!);
      logits = await this.#run();
    }
    return { logits, logLikelihood };
  }

  step(id: number): Promise<Float32Array> {
    checkStep(this.#ids.length, this.contextLength);
    this.#ids.push(id);
    return this.#run();
  }

  async #run(): Promise<Float32Array> {
    const tokens = new BigInt64Array(this.contextLength);
    this.#ids.forEach((id, i) => tokens[i] = BigInt(id));
    const { outputs } = await this.runner.run({
      tokens: { dtype: "int64", dims: [1, this.contextLength], data: tokens },
      last: { dtype: "int64", dims: [1], data: BigInt64Array.of(BigInt(this.#ids.length - 1)) },
    });
    return outputs.logits!.data as Float32Array;
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}
