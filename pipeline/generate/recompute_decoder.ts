/**
 * The full-recompute {@linkcode Decoder}: every token runs the whole context through the model
 * (no cache). The baseline of `deno task bench generate` and the oracle of the KV-cache tests.
 *
 * @module
 */
import { type Backend, type InitialValue, TrainingStep } from "../../core/runtime/mod.ts";
import type { GenerationGraph } from "../../models/gpt_kv_cache.ts";
import { checkPrefill, checkStep, type Decoder } from "./decoder.ts";

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
