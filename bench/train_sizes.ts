/**
 * `deno task bench train_sizes [--config gpt2-small|gpt2-medium] [--vocab 8192] [--seq-len 1024]
 * [--batch 1] [--steps 3] [--threads 2]`
 *
 * Training at the sizes users train (issue #20): the `moe train` step (`pipeline/training`'s
 * `train()` with its GPT runner, AdamW on the host, clipping) against PyTorch training the same
 * model on the same threads (Debian `python3-torch`, `torch.optim.AdamW` + clipping), each in its
 * own process. Per side: seconds per step (the mean after the first step), tokens/s, start-up (the
 * process's start to the first step's start: graph building and optimisation, session creation,
 * state; and to the end of the first step, which also allocates), and peak RSS. Ours also as
 * GFLOP/s (6·parameters·tokens + the attention products, 12·layers·B·T²·C) against the raw 1024²
 * MatMul of the same backend in the same run.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchResult, ratio } from "./_result.ts";
import { runInChild, serveChild } from "./_per_backend.ts";
import { peakRssMB } from "./_process.ts";
import { pythonOutput, torchGpt, torchPrelude } from "./_engine_torch.ts";
import { matMulGflops } from "./engine.ts";
import { benchTrainOptions, syntheticShards } from "./_synthetic.ts";
import { openBackend } from "../core/runtime/mod.ts";
import { train } from "../pipeline/training/mod.ts";
import { GPT_CONFIGS, type GPTConfig, gptParamSpecs } from "../models/gpt.ts";

interface Options {
  config: "gpt2-small" | "gpt2-medium";
  vocab: number;
  seqLen: number;
  batch: number;
  steps: number;
  threads: number;
}

/** What one side measured. */
interface Measured {
  secondsPerStep: number;
  /** Process start to the first step's start: model, graphs, sessions, state. */
  setupSeconds: number;
  /** Process start to the end of the first step (its first run allocates). */
  startupSeconds: number;
  peakRssMB: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", default: "gpt2-small" },
      vocab: { type: "string", default: "8192" },
      "seq-len": { type: "string", default: "1024" },
      batch: { type: "string", default: "1" },
      steps: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
    },
  });
  if (values.config !== "gpt2-small" && values.config !== "gpt2-medium") {
    throw new RangeError(`--config must be gpt2-small or gpt2-medium, got "${values.config}"`);
  }
  return {
    config: values.config,
    vocab: Number(values.vocab),
    seqLen: Number(values["seq-len"]),
    batch: Number(values.batch),
    steps: Math.max(2, Number(values.steps)),
    threads: Number(values.threads),
  };
}

const modelOf = (o: Options): GPTConfig => ({
  ...GPT_CONFIGS[o.config],
  vocabSize: o.vocab,
  contextLength: o.seqLen,
});

/** FLOPs of one training step: 6 per parameter per token, plus the attention products. */
function stepFlops(cfg: GPTConfig, o: Options): number {
  const params = gptParamSpecs(cfg).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const tokens = o.batch * o.seqLen;
  return 6 * params * tokens + 12 * cfg.layers * o.batch * o.seqLen ** 2 * cfg.dModel;
}

/** Our side, in this (child) process: one run of `steps` steps; the first one is start-up. */
async function child(o: Options): Promise<Measured> {
  const cfg = modelOf(o);
  const dir = await Deno.makeTempDir();
  await syntheticShards(dir, cfg.vocabSize, (o.steps + 2) * o.batch * (o.seqLen + 1));
  await Deno.writeTextFile(join(dir, "tok.json"), "{}");
  const { backend } = await openBackend("cpu", { threads: o.threads });
  const ends: number[] = [];
  let setupSeconds = NaN;
  const options = { ...benchTrainOptions(dir, cfg, o.batch, o.steps, "mixed"), seqLen: o.seqLen };
  await train(options, {
    backend,
    out: join(dir, "run"),
    tokenizerPath: join(dir, "tok.json"),
    haltAfter: o.steps,
    notice: () => {},
    progress: {
      start() {
        setupSeconds = performance.now() / 1000; // the loop starts: the first step is next
      },
      update() {
        ends.push(performance.now() / 1000); // once per step, after it ran
      },
      stop() {},
    },
  });
  await Deno.remove(dir, { recursive: true });
  const after = ends.slice(1).map((t, i) => t - ends[i]!);
  return {
    secondsPerStep: after.reduce((a, b) => a + b, 0) / after.length,
    setupSeconds,
    startupSeconds: ends[0]!, // performance.now() counts from the process's start
    peakRssMB: peakRssMB(),
  };
}

/** PyTorch's side: the same model, optimizer and clipping; its start-up from the script's start. */
function torchScript(cfg: GPTConfig, o: Options): string {
  const B = o.batch, T = o.seqLen, V = cfg.vocabSize;
  return `import time, json, resource
t_start = time.perf_counter()
${torchPrelude(o.threads)}
model = ${torchGpt(cfg, T)}
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05)
tokens = (torch.arange(${B} * ${T}) * 31 % ${V}).view(${B}, ${T})
targets = (tokens + 31) % ${V}
ends = []
t_setup = time.perf_counter() - t_start
for _ in range(${o.steps}):
    loss = F.cross_entropy(model(tokens).view(${B} * ${T}, ${V}), targets.view(${B} * ${T}))
    opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    ends.append(time.perf_counter() - t_start)
after = [b - a for a, b in zip(ends, ends[1:])]
print(json.dumps({"secondsPerStep": sum(after) / len(after), "setupSeconds": t_setup, "startupSeconds": ends[0],
  "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;
}

/**
 * Debian's PyTorch calls the system BLAS: with the reference `libblas3` (no `libopenblas0`
 * installed) it trains ~20× slower, which would flatter us; say so rather than print the ratio.
 */
function referenceBlasWarning(): string | null {
  const blas = (() => {
    try {
      return Deno.realPathSync("/usr/lib/x86_64-linux-gnu/libblas.so.3");
    } catch {
      return null;
    }
  })();
  return blas !== null && blas.includes("/blas/")
    ? `warning: PyTorch runs on the reference BLAS (${blas}); install libopenblas0 for a fair reference`
    : null;
}

async function torchSide(cfg: GPTConfig, o: Options): Promise<Measured | null> {
  const warning = referenceBlasWarning();
  if (warning) console.error(warning);
  const out = await pythonOutput(torchScript(cfg, o));
  return out === null ? null : JSON.parse(out) as Measured;
}

/** Both sides and the raw MatMul, lined up. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const cfg = modelOf(o);
  const ours = await runInChild<Measured>(import.meta.url, "cpu", args);
  const torch = await torchSide(cfg, o);
  const { backend } = await openBackend("cpu", { threads: o.threads });
  const raw = await matMulGflops(backend, 1024, 3);
  const tokens = o.batch * o.seqLen;
  const shape = `${o.config}, vocab ${o.vocab}, batch ${o.batch}×${o.seqLen}, ${o.threads} threads`;
  const gflops = stepFlops(cfg, o) / ours.secondsPerStep / 1e9;
  const row = (metric: string, unit: string, a: number, b: number | null): BenchResult => ({
    metric: `cpu train ${shape}: ${metric}`,
    unit,
    ours: a,
    reference: b,
    ratio: b === null ? null : ratio(a, b),
  });
  return [
    row(
      "tokens/s",
      "tokens/s",
      tokens / ours.secondsPerStep,
      torch && tokens / torch.secondsPerStep,
    ),
    row("seconds per step", "s", ours.secondsPerStep, torch?.secondsPerStep ?? null),
    row("start-up to the first step", "s", ours.setupSeconds, torch?.setupSeconds ?? null),
    row("start-up to the end of step 1", "s", ours.startupSeconds, torch?.startupSeconds ?? null),
    row("peak RSS", "MB", ours.peakRssMB, torch?.peakRssMB ?? null),
    row("step GFLOP/s vs the raw 1024² MatMul", "GFLOP/s", gflops, raw),
  ];
}

if (import.meta.main) await serveChild((_backend, args) => child(parseOptions(args)));
