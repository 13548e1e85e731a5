/**
 * `deno task bench generate [--backends cpu,wasm] [--threads 2] [--wasm-threads 1] [--tokens 256]
 * [--repeats 1] [--step-threads N]`
 *
 * Generation speed of the `bench` config (V 8192, ctx 128, d 256, 4 layers, 4 heads; random
 * weights: speed does not depend on them): greedy decoding of `--tokens` tokens after a 16-token
 * prompt with the KV cache (`pipeline/generate`'s KVCacheDecoder) and with full recompute (the whole
 * window per token), on each backend in its own process, through the same `generate()` loop as
 * `moe generate`. At ctx 128, 256 tokens slide the window (re-prefill of the last 64 tokens)
 * three times. Tokens/s counts the tokens after the first over the time after the first; the
 * first-token latency is prefill plus one draw, with the sessions already loaded.
 *
 * Each decoder is measured alone in the process (opened, warmed up, measured, disposed: no other
 * session's threads beside it), `--repeats` times round-robin, and the median is reported. The
 * cache decoder runs its one-token step on `--step-threads` (default: the decoder's, 1) and its
 * prefill on `--threads`. The recompute reference is the best recompute on this engine within
 * the same threads: on cpu with `--threads N > 1` it is measured with N and with 1 intra-op
 * threads and the faster counts (each is listed; the unit names the one used).
 *
 * Reference: PyTorch (Debian `python3-torch`) greedy decoding of the same model with a
 * hand-written HF-style `past_key_values` cache (concatenated per step, same sliding rule),
 * on the same threads. `wasm` runs 1 thread by default (see `core/runtime/wasm.ts`).
 *
 * Rows: `generate.<backend>.cache.tokens_per_s` against the best full recompute (ratio = the
 * cache's speed-up, goal ≥ 5×), `….cache.tokens_per_s.torch` and `….cache.first_token_ms`
 * against PyTorch (first token: ratio = torch/ours, > 1 is better), and the recompute figures.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchResult, ratio } from "./_result.ts";
import { runInChild, serveChild } from "./_per_backend.ts";
import { torchKvDecoding } from "./_generate_torch.ts";
import {
  type DecodeMode,
  generate,
  type GenerateResult,
  GREEDY,
  openGPTDecoder,
} from "../pipeline/generate/mod.ts";
import { type Backend, type BackendName, openBackend } from "../core/runtime/mod.ts";
import { GPT_CONFIGS, initGPT } from "../models/gpt.ts";

const CFG = GPT_CONFIGS.bench;
/** Decoding time each decoder gets before any is measured. */
const WARM_UP_MS = 1500;
const PROMPT = Array.from({ length: 16 }, (_, i) => (i * 977 + 13) % CFG.vocabSize);

interface Options {
  backends: BackendName[];
  threads: number;
  wasmThreads: number;
  tokens: number;
  repeats: number;
  /** The cache decoder's step threads; default: the decoder's choice. */
  stepThreads: number | undefined;
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
      repeats: { type: "string", default: "1" },
      "step-threads": { type: "string" },
      parameters: { type: "string" },
    },
  });
  return {
    backends: values.backends.split(",") as BackendName[],
    threads: Number(values.threads),
    wasmThreads: Number(values["wasm-threads"]),
    tokens: Number(values.tokens),
    repeats: Math.max(1, Number(values.repeats)),
    stepThreads: values["step-threads"] === undefined ? undefined : Number(values["step-threads"]),
    parameters: values.parameters === "inputs" || values.parameters === "initializers"
      ? values.parameters
      : undefined,
  };
}

/** One decoder the child measures: a mode on a number of intra-op threads. */
interface Variant {
  mode: DecodeMode;
  threads: number;
}

/** One decoder's figures (medians over the repeats). */
interface Measured extends Variant {
  tokensPerSecond: number;
  firstTokenMs: number;
}

/**
 * The decoders to measure on `name`: the cache and the recompute on the backend's threads, and
 * on cpu with several threads also the recompute on one (per-session threads), so that the
 * reference is the best recompute within the same threads.
 */
function variants(name: BackendName, o: Options): Variant[] {
  const threads = name === "wasm" ? o.wasmThreads : o.threads;
  const out: Variant[] = [{ mode: "cache", threads }, { mode: "recompute", threads }];
  if (name === "cpu" && threads > 1) out.push({ mode: "recompute", threads: 1 });
  return out;
}

/**
 * Every variant on one backend, in this process. All decoders are warmed up before any is
 * measured (WASM kernels start in V8's baseline tier and are optimized once hot, so whichever
 * ran first would otherwise pay for the tier-up); then each is measured alone, round-robin,
 * after a few tokens that settle its sessions.
 */
async function child(name: BackendName, o: Options): Promise<Measured[]> {
  const all = variants(name, o);
  const backends = new Map<number, Backend>();
  for (const { threads } of all) {
    if (!backends.has(threads)) {
      backends.set(threads, (await openBackend(name, { threads })).backend);
    }
  }
  const values = initGPT(CFG, 1);
  const open = (v: Variant) =>
    openGPTDecoder(backends.get(v.threads)!, CFG, values, {
      mode: v.mode,
      ...(o.parameters ? { parameters: o.parameters } : {}),
      ...(o.stepThreads === undefined ? {} : { stepThreads: o.stepThreads }),
    });
  const options = { maxTokens: o.tokens, eotId: null, sampling: GREEDY };
  const measure = async (v: Variant, maxTokens: number, warmUpMs = 0) => {
    const decoder = await open(v);
    try {
      const start = performance.now();
      do await generate(decoder, PROMPT, { ...options, maxTokens: 8 }); while (
        performance.now() - start < warmUpMs
      );
      return await generate(decoder, PROMPT, { ...options, maxTokens });
    } finally {
      await decoder.dispose();
    }
  };
  // Subtle: on a busy box V8 takes seconds to optimize the WASM kernels, hence a timed warm-up.
  for (const v of all) await measure(v, 32, WARM_UP_MS);
  const runs = all.map(() => [] as GenerateResult[]);
  for (let r = 0; r < o.repeats; r++) {
    for (const [i, v] of all.entries()) runs[i]!.push(await measure(v, o.tokens));
  }
  return all.map((v, i) => ({
    ...v,
    tokensPerSecond: median(runs[i]!.map((r) => r.tokensPerSecond)),
    firstTokenMs: median(runs[i]!.map((r) => r.firstTokenMs)),
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs each backend in a child process, and PyTorch on the same thread count, and lines them
 * up. `generate.<backend>.cache.tokens_per_s` has the best full recompute as its reference (the
 * ratio is the cache's speed-up); `….tokens_per_s.torch` and `first_token_ms` have PyTorch.
 */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const torchRuns = new Map<number, ReturnType<typeof torchKvDecoding>>();
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
    const measured = await runInChild<Measured[]>(import.meta.url, backend, args);
    const cache = measured.find((m) => m.mode === "cache")!;
    const recomputes = measured.filter((m) => m.mode === "recompute");
    const best = recomputes.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
    const at = `generate.${backend}`, on = `, ${plural(threads, "thread")}`;
    const row = (metric: string, unit: string, ours: number, reference: number | null) => ({
      metric,
      unit: unit + on,
      ours,
      reference,
      ratio: ratio(ours, reference),
    });
    // Say which recompute is the reference when several were tried.
    const sessions = (list: Measured[]) => list.map((m) => `${m.threads}-thread`).join(" and ");
    const bestOf = recomputes.length > 1
      ? ` (faster of the ${sessions(recomputes)} sessions: ${sessions([best])})`
      : "";
    const tried = recomputes.length > 1 ? recomputes : [];
    results.push(
      {
        ...row(`${at}.recompute.tokens_per_s`, "tokens/s", best.tokensPerSecond, null),
        unit: `tokens/s${on}${bestOf}`,
      },
      ...tried.map((m) => ({
        metric: `${at}.recompute.tokens_per_s.threads_${m.threads}`,
        unit: `tokens/s, ${plural(m.threads, "thread")}`,
        ours: m.tokensPerSecond,
        reference: null,
        ratio: null,
      })),
      {
        ...row(`${at}.cache.tokens_per_s`, "tokens/s", cache.tokensPerSecond, best.tokensPerSecond),
        unit: `tokens/s${on}${backend === "cpu" ? ` (step on ${o.stepThreads ?? 1})` : ""}`,
      },
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
      row(`${at}.recompute.first_token_ms`, "ms", best.firstTokenMs, null),
    );
  }
  return results;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

if (import.meta.main) await serveChild((backend, args) => child(backend, parseOptions(args)));
