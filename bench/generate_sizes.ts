/**
 * `deno task bench generate_sizes [--config gpt2-small|gpt2-medium] [--vocab 8192]
 * [--prompt 512] [--tokens 64] [--threads 2] [--parameters inputs|initializers]`
 *
 * Inference at the sizes users run (issue #20): what `moe generate` does with a GPT-2 small or
 * medium model at context 1 024 — the KV-cache decoder (`pipeline/generate`'s `openGPTDecoder`,
 * the same `generate()` loop) — against PyTorch decoding the same shape with an HF-style
 * `past_key_values` cache on the same threads (Debian `python3-torch`), each in its own process.
 * Per side:
 * - start-up: the process's start to the first generated token (weights initialised in the
 *   process, graphs built and optimised, sessions created, the prompt prefilled);
 * - prefill tokens/s: the prompt's tokens over the first-token latency of a second, warm decode —
 *   the forward pass a teacher runs for `moe distill cache`, at batch 1;
 * - decode tokens/s: tokens after the first, per second, on the warm decode;
 * - peak RSS.
 *
 * Ratios are ours / PyTorch on every row, as in `bench/train_sizes.ts` (for start-up and memory,
 * below 1 is ours ahead). Random weights: speed does not depend on them. `--prompt` + `--tokens` must fit the context, so
 * the window never slides. `--parameters` forces where the decoder puts the weights (default: its
 * own choice, `parameterPlacement`: shared inputs at these sizes), to compare the two.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchResult, ratio } from "./_result.ts";
import { runInChild, serveChild } from "./_per_backend.ts";
import { peakRssMB } from "./_process.ts";
import { torchKvDecoding } from "./_generate_torch.ts";
import { generate, GREEDY, openGPTDecoder } from "../pipeline/generate/mod.ts";
import { openBackend } from "../core/runtime/mod.ts";
import { GPT_CONFIGS, type GPTConfig, initGPT } from "../models/gpt.ts";

interface Options {
  config: "gpt2-small" | "gpt2-medium";
  vocab: number;
  prompt: number;
  tokens: number;
  threads: number;
  parameters: "inputs" | "initializers" | undefined;
}

/** What one side measured. */
interface Measured {
  startupSeconds: number;
  firstTokenMs: number;
  tokensPerSecond: number;
  peakRssMB: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", default: "gpt2-small" },
      vocab: { type: "string", default: "8192" },
      prompt: { type: "string", default: "512" },
      tokens: { type: "string", default: "64" },
      threads: { type: "string", default: "2" },
      parameters: { type: "string" },
    },
  });
  const parameters = values.parameters;
  if (parameters !== undefined && parameters !== "inputs" && parameters !== "initializers") {
    throw new RangeError(`--parameters must be inputs or initializers, got "${parameters}"`);
  }
  if (values.config !== "gpt2-small" && values.config !== "gpt2-medium") {
    throw new RangeError(`--config must be gpt2-small or gpt2-medium, got "${values.config}"`);
  }
  const o: Options = {
    config: values.config,
    vocab: Number(values.vocab),
    prompt: Number(values.prompt),
    tokens: Math.max(2, Number(values.tokens)),
    threads: Number(values.threads),
    parameters,
  };
  const context = GPT_CONFIGS[o.config].contextLength;
  if (o.prompt + o.tokens > context) {
    throw new RangeError(`--prompt + --tokens must fit the context (${context})`);
  }
  return o;
}

const modelOf = (o: Options): GPTConfig => ({ ...GPT_CONFIGS[o.config], vocabSize: o.vocab });

/** The prompt both sides decode from (the formula of `bench/_generate_torch.ts`). */
const promptOf = (o: Options) =>
  Array.from({ length: o.prompt }, (_, i) => (i * 977 + 13) % o.vocab);

/** Our side, in this (child) process: a cold decode (start-up), then a warm one (speeds). */
async function child(o: Options): Promise<Measured> {
  const cfg = modelOf(o);
  const { backend } = await openBackend("cpu", { threads: o.threads });
  const decoder = await openGPTDecoder(backend, cfg, initGPT(cfg, 1), {
    mode: "cache",
    ...(o.parameters ? { parameters: o.parameters } : {}),
  });
  const prompt = promptOf(o);
  const options = { maxTokens: 8, eotId: null, sampling: GREEDY };
  try {
    const calledAt = performance.now(); // counts from the process's start
    const cold = await generate(decoder, prompt, options);
    const startupSeconds = (calledAt + cold.firstTokenMs) / 1000;
    const warm = await generate(decoder, prompt, { ...options, maxTokens: o.tokens });
    return {
      startupSeconds,
      firstTokenMs: warm.firstTokenMs,
      tokensPerSecond: warm.tokensPerSecond,
      peakRssMB: peakRssMB(),
    };
  } finally {
    await decoder.dispose();
  }
}

/** Both sides, lined up. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const ours = await runInChild<Measured>(import.meta.url, "cpu", args);
  const torch = await torchKvDecoding(modelOf(o), o.prompt, o.tokens, o.threads);
  const placed = o.parameters ? `, parameters as ${o.parameters}` : "";
  const shape = `${o.config}, vocab ${o.vocab}, prompt ${o.prompt}, ${o.threads} threads${placed}`;
  const row = (metric: string, unit: string, a: number, b: number | undefined): BenchResult => ({
    metric: `cpu generate ${shape}: ${metric}`,
    unit,
    ours: a,
    reference: b ?? null,
    ratio: ratio(a, b ?? null),
  });
  const prefill = (m: { firstTokenMs: number }) => o.prompt / (m.firstTokenMs / 1000);
  return [
    row("decode tokens/s (KV cache)", "tokens/s", ours.tokensPerSecond, torch?.tokensPerSecond),
    row("prefill tokens/s (warm)", "tokens/s", prefill(ours), torch ? prefill(torch) : undefined),
    row("start-up to the first token", "s", ours.startupSeconds, torch?.startupSeconds),
    row("peak RSS", "MB", ours.peakRssMB, torch?.peakRssMB),
  ];
}

if (import.meta.main) await serveChild((_backend, args) => child(parseOptions(args)));
