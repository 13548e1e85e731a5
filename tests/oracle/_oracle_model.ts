/**
 * The model and batch of the PyTorch oracle, shared by `make_golden.ts` (which asks PyTorch) and
 * `gpt2_oracle_test.ts` (which checks our engine against PyTorch's committed answer): a small
 * GPT-2 with every kind of layer, seeded weights, and a batch of fixture text with padding.
 *
 * @module
 */
import { readDocuments } from "../../core/data/mod.ts";
import { encodeSafetensors, openBackend, TrainingStep } from "../../core/runtime/mod.ts";
import { hfGpt2Config, toHfGpt2 } from "../../pipeline/hf/mod.ts";
import { sha256Hex } from "../../core/tokenizer/mod.ts";
import { buildGPTTraining, gptConfig, initGPT } from "../../models/gpt.ts";

/** 2 layers, 2 heads, d 32, byte vocab, context 16. */
export const ORACLE_CONFIG = gptConfig({
  vocabSize: 258,
  contextLength: 16,
  layers: 2,
  heads: 2,
  dModel: 32,
});
export const B = 2, T = 16;
const SEED = 7;

/** Weights (initGPT, seed 7, with LayerNorm scales and biases perturbed so they matter). */
export function oracleWeights(): Map<string, Float32Array> {
  const w = initGPT(ORACLE_CONFIG, SEED);
  for (const [name, v] of w) {
    if (/\.(scale|bias|b)$/.test(name)) {
      v.forEach((x, i) => (v[i] = x + 0.1 * Math.sin(i + name.length)));
    }
  }
  return w;
}

/** Tokens and targets: UTF-8 bytes of the first English fixture document; row 2 ends in padding. */
export async function oracleBatch(): Promise<{ tokens: number[][]; targets: number[][] }> {
  const url = new URL("../../fixtures/corpus/en.jsonl.gz", import.meta.url).pathname;
  const first = (await readDocuments(url).next()).value!;
  const bytes = Array.from(new TextEncoder().encode(first.text).subarray(0, B * T + 1));
  const tokens = [bytes.slice(0, T), bytes.slice(T, 2 * T)];
  const targets = [bytes.slice(1, T + 1), bytes.slice(T + 1, 2 * T + 1)];
  for (let t = T - 4; t < T; t++) targets[1]![t] = -1;
  return { tokens, targets };
}

/** The Hugging Face safetensors bytes and config of the oracle weights. */
export async function oracleExport() {
  const state = Object.fromEntries(
    [...oracleWeights()].map((
      [k, v],
    ) => [k, { dtype: "float32" as const, dims: [v.length], data: v }]),
  );
  const bytes = encodeSafetensors(toHfGpt2(ORACLE_CONFIG, state), { format: "pt" });
  return { bytes, sha256: await sha256Hex(bytes), config: hfGpt2Config(ORACLE_CONFIG, 256) };
}

/**
 * Our engine's loss and gradients on the oracle batch. The gradient is read from AdamW's first
 * moment after one step from zero state without clipping: m₁ = (1 − β₁)·g.
 */
export async function ourLossAndGrads(): Promise<
  { loss: number; grads: Map<string, Float32Array> }
> {
  const beta1 = 0.9;
  const tg = buildGPTTraining(ORACLE_CONFIG, { batch: B, seqLen: T, values: oracleWeights() }, {
    beta1,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0,
    clipNorm: 0,
  });
  const { backend } = await openBackend("cpu", { threads: 1 });
  const step = await TrainingStep.create(backend, tg.model, {
    bindings: tg.bindings,
    state: tg.initialState,
  });
  const { tokens, targets } = await oracleBatch();
  const int64 = (rows: number[][]) => ({
    dtype: "int64" as const,
    dims: [B, T],
    data: BigInt64Array.from(rows.flat(), BigInt),
  });
  const { loss } = await step.run({
    tokens: int64(tokens),
    targets: int64(targets),
    lr: 0,
    step: 1,
  });
  const state = await step.readState();
  await step.dispose();
  const grads = new Map<string, Float32Array>();
  for (const name of oracleWeights().keys()) {
    const m = state[`${name}.adam_m`]!.data as Float32Array;
    grads.set(name, Float32Array.from(m, (x) => x / (1 - beta1)));
  }
  return { loss, grads };
}
