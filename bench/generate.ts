/**
 * `deno task bench generate [--backends cpu,wasm] [--threads 2] [--wasm-threads 1] [--tokens 256]`
 *
 * Generation speed of the `bench` config (V 8192, ctx 128, d 256, 4 layers, 4 heads; random
 * weights: speed does not depend on them): greedy decoding of `--tokens` tokens after a 16-token
 * prompt with the KV cache (`core/generate`'s KVCacheDecoder) and with full recompute (the whole
 * window per token), on each backend in its own process, through the same `generate()` loop as
 * `moe generate`. At ctx 128, 256 tokens slide the window (re-prefill of the last 64 tokens)
 * three times. Tokens/s counts the tokens after the first over the time after the first; the
 * first-token latency is prefill plus one draw, with the sessions already loaded.
 *
 * Reference: PyTorch (Debian `python3-torch`) greedy decoding of the same model with a
 * hand-written HF-style `past_key_values` cache (concatenated per step, same sliding rule),
 * on the same threads. `wasm` runs 1 thread by default (see `core/runtime/wasm.ts`).
 *
 * Rows: `generate.<backend>.cache.tokens_per_s` against full recompute (ratio = the cache's
 * speed-up, goal ≥ 5×), `….cache.tokens_per_s.torch` and `….cache.first_token_ms` against
 * PyTorch (first token: ratio = torch/ours, > 1 is better), and the recompute figures alone.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchResult, ratio } from "./_result.ts";
import { runInChild, serveChild } from "./_per_backend.ts";
import { torchKvDecoding } from "./_generate_torch.ts";
import { type DecodeMode, generate, GREEDY, openGPTDecoder } from "../core/generate/mod.ts";
import { type BackendName, openBackend } from "../core/runtime/mod.ts";
import { GPT_CONFIGS, initGPT } from "../models/gpt.ts";

const CFG = GPT_CONFIGS.bench;
const PROMPT = Array.from({ length: 16 }, (_, i) => (i * 977 + 13) % CFG.vocabSize);

interface Options {
  backends: BackendName[];
  threads: number;
  wasmThreads: number;
  tokens: number;
  /** Parameter placement; default: the decoder's choice for the backend. */
  parameters: "inputs" | "initializers" | undefined;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      backends: { type: "string", default: "cpu,wasm" },
      threads: { type: "string", default: "2" },
      "wasm-threads": { type: "string", default: "1" },
      tokens: { type: "string", default: "256" },
      parameters: { type: "string" },
    },
  });
  return {
    backends: values.backends.split(",") as BackendName[],
    threads: Number(values.threads),
    wasmThreads: Number(values["wasm-threads"]),
    tokens: Number(values.tokens),
    parameters: values.parameters === "inputs" || values.parameters === "initializers"
      ? values.parameters
      : undefined,
  };
}

/** One decoding run's figures. */
interface Measured {
  tokensPerSecond: number;
  firstTokenMs: number;
}

/**
 * Both modes on one backend, in this process. Both decoders are warmed up before either is
 * measured: WASM kernels start in V8's baseline tier and are optimized once hot, so whichever
 * mode ran first would otherwise pay for the tier-up.
 */
async function child(name: BackendName, o: Options): Promise<Record<DecodeMode, Measured>> {
  const threads = name === "wasm" ? o.wasmThreads : o.threads;
  const { backend } = await openBackend(name, { threads });
  const values = initGPT(CFG, 1);
  const modes = ["cache", "recompute"] as const;
  const decoders = await Promise.all(
    modes.map((mode) =>
      openGPTDecoder(backend, CFG, values, {
        mode,
        ...(o.parameters ? { parameters: o.parameters } : {}),
      })
    ),
  );
  const options = { maxTokens: o.tokens, eotId: null, sampling: GREEDY };
  for (const decoder of decoders) await generate(decoder, PROMPT, { ...options, maxTokens: 32 });
  const out = {} as Record<DecodeMode, Measured>;
  for (const [i, mode] of modes.entries()) {
    const r = await generate(decoders[i]!, PROMPT, options);
    out[mode] = { tokensPerSecond: r.tokensPerSecond, firstTokenMs: r.firstTokenMs };
    await decoders[i]!.dispose();
  }
  return out;
}

/**
 * Runs each backend in a child process, and PyTorch on the same thread count, and lines them
 * up. `generate.<backend>.cache.tokens_per_s` has full recompute as its reference (the ratio is
 * the cache's speed-up); `….tokens_per_s.torch` and `first_token_ms` have PyTorch.
 */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const torchRuns = new Map<number, Promise<Measured | null>>();
  const torchAt = (threads: number) => {
    if (!torchRuns.has(threads)) {
      torchRuns.set(threads, torchKvDecoding(CFG, PROMPT.length, o.tokens, threads));
    }
    return torchRuns.get(threads)!;
  };
  const results: BenchResult[] = [];
  for (const backend of o.backends) {
    const threads = backend === "wasm" ? o.wasmThreads : o.threads;
    const torch = await torchAt(threads);
    const { cache, recompute } = await runInChild<Record<DecodeMode, Measured>>(
      import.meta.url,
      backend,
      args,
    );
    const at = `generate.${backend}`, on = `, ${threads} thread${threads === 1 ? "" : "s"}`;
    const row = (metric: string, unit: string, ours: number, reference: number | null) => ({
      metric,
      unit: unit + on,
      ours,
      reference,
      ratio: ratio(ours, reference),
    });
    results.push(
      row(`${at}.recompute.tokens_per_s`, "tokens/s", recompute.tokensPerSecond, null),
      row(`${at}.cache.tokens_per_s`, "tokens/s", cache.tokensPerSecond, recompute.tokensPerSecond),
      row(
        `${at}.cache.tokens_per_s.torch`,
        "tokens/s",
        cache.tokensPerSecond,
        torch?.tokensPerSecond ?? null,
      ),
      {
        ...row(`${at}.cache.first_token_ms`, "ms", cache.firstTokenMs, torch?.firstTokenMs ?? null),
        ratio: torch ? torch.firstTokenMs / cache.firstTokenMs : null, // lower is better
      },
      row(`${at}.recompute.first_token_ms`, "ms", recompute.firstTokenMs, null),
    );
  }
  return results;
}

if (import.meta.main) await serveChild((backend, args) => child(backend, parseOptions(args)));
