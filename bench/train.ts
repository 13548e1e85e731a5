/**
 * `deno task bench train [--backends cpu,wasm] [--threads 2] [--steps 20] [--batch 16]`
 *
 * The teacher trainer end to end (`pipeline/training`'s `train()`: shard reading, batching, the LR
 * schedule, one fused step per batch, metrics) on the `bench` config (V 8192, ctx 128, d 256,
 * 4 layers, 4 heads, batch 16 × 128), against PyTorch (Debian `python3-torch`) training the same
 * model on the same threads (`_engine_torch.ts`'s script, its best step: a figure that flatters
 * PyTorch, ours being the mean over the whole run after one warm-up step). Each backend runs in
 * its own process, so its peak RSS (VmHWM) is its own.
 *
 * @module
 */
import { join } from "node:path";
import { type BenchResult, ratio } from "./_result.ts";
import {
  parseTrainingBenchOptions,
  runInChild,
  serveChild,
  type TrainingBenchOptions,
} from "./_per_backend.ts";
import { torchGptTokensPerSecond } from "./_engine_torch.ts";
import { peakRssMB } from "./_process.ts";
import { type BackendName, openBackend } from "../core/runtime/mod.ts";
import { benchTrainOptions, syntheticShards } from "./_synthetic.ts";
import { train } from "../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../models/gpt.ts";

const CFG = GPT_CONFIGS.bench;

type Options = TrainingBenchOptions;

function parseOptions(args: string[]): Options {
  return parseTrainingBenchOptions(args, { backends: "cpu,wasm", steps: 20 });
}

/** One backend in this process: trainer tokens/s after a warm-up step, and peak RSS in MB. */
async function child(backend: BackendName, o: Options): Promise<{ tps: number; rssMB: number }> {
  const dir = await Deno.makeTempDir();
  await syntheticShards(dir, CFG.vocabSize, (o.steps + 2) * o.batch * (CFG.contextLength + 1));
  await Deno.writeTextFile(join(dir, "tok.json"), "{}");
  const { backend: b } = await openBackend(backend, { threads: o.threads });
  const run = (steps: number, out: string) =>
    train(benchTrainOptions(dir, CFG, o.batch, steps, "mixed"), {
      backend: b,
      out,
      tokenizerPath: join(dir, "tok.json"),
      haltAfter: steps,
    });
  await run(1, join(dir, "warm")); // sessions built once, kernels warmed
  const s = await run(o.steps, join(dir, "run"));
  const rssMB = peakRssMB();
  await Deno.remove(dir, { recursive: true });
  return { tps: s.tokensPerSecond, rssMB };
}

/** Runs each backend in a child process, then PyTorch, and lines them up. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const results: BenchResult[] = [];
  const torch = await torchGptTokensPerSecond(CFG, o.batch, CFG.contextLength, o.threads, 5);
  for (const backend of o.backends) {
    const { tps, rssMB } = await runInChild<{ tps: number; rssMB: number }>(
      import.meta.url,
      backend,
      args,
    );
    const b = `batch ${o.batch}×${CFG.contextLength}, ${o.threads} threads`;
    results.push({
      metric: `${backend} train bench config (${b})`,
      unit: "tokens/s",
      ours: tps,
      reference: torch,
      ratio: ratio(tps, torch),
    });
    results.push({
      metric: `${backend} train peak RSS`,
      unit: "MB",
      ours: rssMB,
      reference: null,
      ratio: null,
    });
  }
  return results;
}

if (import.meta.main) await serveChild((backend, args) => child(backend, parseOptions(args)));
