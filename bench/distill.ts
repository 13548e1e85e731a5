/**
 * `deno task bench distill [--backends cpu] [--threads 2] [--steps 10] [--batch 16]`
 *
 * Distillation throughput end to end (`pipeline/distill`'s `distill()`: shards, batches, the step
 * with α·CE + (1−α)·forward KL at τ 2) for the issue's shapes: teacher d 512 / 6 layers / 8
 * heads, student d 256 / 4 layers / 4 heads, V 8192, ctx 128, batch 16 × 128.
 *
 * - `online`: the teacher's forward pass runs inside each step;
 * - `cache`: the student reads the teacher's top-32 from a cache built once (`cache build` is
 *   that one teacher pass, reported with the cache's size per million tokens).
 *
 * The reference is PyTorch (Debian `python3-torch`) doing the online step on the same threads:
 * teacher forward under `no_grad`, student forward/backward, AdamW (its best step; ours is the
 * mean over the run after a warm-up run). The cache figure is compared with the same PyTorch
 * online figure — what the cache saves is the point. Each backend runs in its own process.
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
import { runPython, torchGpt, torchPrelude } from "./_engine_torch.ts";
import { type BackendName, float32, openBackend, saveSafetensors } from "../core/runtime/mod.ts";
import { benchTrainOptions, syntheticShards } from "./_synthetic.ts";
import {
  buildTeacherCache,
  distill,
  type DistillSource,
  loadTeacher,
} from "../pipeline/distill/mod.ts";
import { GPT_CONFIGS, type GPTConfig, gptParamSpecs, initGPT } from "../models/gpt.ts";

const STUDENT: GPTConfig = GPT_CONFIGS.bench;
const TEACHER: GPTConfig = { ...STUDENT, layers: 6, heads: 8, dModel: 512 };
const TOP_K = 32;
const TAU = 2;

type Options = TrainingBenchOptions;

function parseOptions(args: string[]): Options {
  return parseTrainingBenchOptions(args, { backends: "cpu", steps: 10 });
}

/** Synthetic shards and a randomly initialised teacher checkpoint in `dir`. */
async function prepare(dir: string, windows: number): Promise<void> {
  await syntheticShards(
    join(dir, "tokens"),
    STUDENT.vocabSize,
    windows * STUDENT.contextLength + 1,
  );
  const tokenizer = { fingerprint: "", vocabSize: STUDENT.vocabSize, eotId: STUDENT.vocabSize - 1 };
  await Deno.writeTextFile(join(dir, "tok.json"), "{}");
  const teacher = join(dir, "teacher");
  await Deno.mkdir(teacher);
  const config = { format: "moe-gpt", version: 1, name: "custom", model: TEACHER, tokenizer };
  await Deno.writeTextFile(
    join(teacher, "config.json"),
    JSON.stringify({ ...config, trainer: { step: 0 } }),
  );
  const values = initGPT(TEACHER, 7);
  const tensors = Object.fromEntries(
    gptParamSpecs(TEACHER).map((p) => [p.name, float32(values.get(p.name)!, p.shape)]),
  );
  await saveSafetensors(join(teacher, "state.safetensors"), tensors);
}

/** One backend in this process: online and cache tokens/s, the cache build, its size. */
async function child(backend: BackendName, o: Options) {
  const dir = await Deno.makeTempDir();
  await prepare(dir, (o.steps + 2) * o.batch);
  const { backend: b } = await openBackend(backend, { threads: o.threads });
  const data = join(dir, "tokens");
  const options = (steps: number) => benchTrainOptions(data, STUDENT, o.batch, steps, "balanced");
  const source: DistillSource = {
    teacher: join(dir, "teacher"),
    cache: null,
    kd: "forward",
    temperature: TAU,
    alpha: { kind: "fixed", alpha: 0.5 },
    lossSchedule: "combined",
  };
  const run = async (s: DistillSource, out: string) => {
    const ctx = { backend: b, tokenizerPath: join(dir, "tok.json") };
    await distill(options(1), s, { ...ctx, out: `${out}-warm`, haltAfter: 1 });
    return (await distill(options(o.steps), s, { ...ctx, out, haltAfter: o.steps }))
      .tokensPerSecond;
  };
  const online = await run(source, join(dir, "online"));
  const started = performance.now();
  const m = await buildTeacherCache({
    teacher: await loadTeacher(source.teacher!),
    data,
    topK: TOP_K,
    temperature: TAU,
    batch: o.batch,
    backend: b,
    out: join(dir, "cache"),
  });
  const positions = m.classes.x!.windows * m.seqLen;
  const build = positions / ((performance.now() - started) / 1000);
  const cache = await run({ ...source, teacher: null, cache: join(dir, "cache") }, join(dir, "c"));
  await Deno.remove(dir, { recursive: true });
  return { online, cache, build, mbPerMillion: m.bytes / positions };
}

function torchScript(batch: number, threads: number): string {
  const T = STUDENT.contextLength, V = STUDENT.vocabSize;
  return `${torchPrelude(threads)}
teacher, student = ${torchGpt(TEACHER, T)}, ${torchGpt(STUDENT, T)}
teacher.eval()
opt = torch.optim.AdamW(student.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
tokens = (torch.arange(${batch} * ${T}) * 31 % ${V}).view(${batch}, ${T})
targets = ((tokens + 31) % ${V}).view(-1)
tau, alpha = ${TAU}, 0.5
def step():
    with torch.no_grad():
        p_t = F.log_softmax(teacher(tokens).view(-1, ${V}) / tau, -1)
    z = student(tokens).view(-1, ${V})
    ce = F.cross_entropy(z, targets)
    kd = F.kl_div(F.log_softmax(z / tau, -1), p_t, log_target=True, reduction="batchmean") * tau * tau
    loss = alpha * ce + (1 - alpha) * kd
    opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0); opt.step()
print(${batch} * ${T} / best_seconds(step, 5, 2))
`;
}

/** Runs each backend in a child process, then PyTorch, and lines them up. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const torch = await runPython(torchScript(o.batch, o.threads));
  const results: BenchResult[] = [];
  for (const backend of o.backends) {
    const r = await runInChild<Awaited<ReturnType<typeof child>>>(import.meta.url, backend, args);
    const shape = `batch ${o.batch}×${STUDENT.contextLength}, ${o.threads} threads`;
    results.push(
      {
        metric: `distill.${backend}.online (teacher d512×6 → student d256×4, ${shape})`,
        unit: "tokens/s",
        ours: r.online,
        reference: torch,
        ratio: ratio(r.online, torch),
      },
      {
        metric: `distill.${backend}.cache (top-${TOP_K}; reference: PyTorch online)`,
        unit: "tokens/s",
        ours: r.cache,
        reference: torch,
        ratio: ratio(r.cache, torch),
      },
      {
        metric: `distill.${backend}.cache build (one teacher pass)`,
        unit: "tokens/s",
        ours: r.build,
        reference: null,
        ratio: null,
      },
      {
        metric: `distill.cache size (top-${TOP_K}, uint16 ids + float16 log-probs)`,
        unit: "MB per million tokens",
        ours: r.mbPerMillion,
        reference: null,
        ratio: null,
      },
    );
  }
  return results;
}

if (import.meta.main) await serveChild((backend, args) => child(backend, parseOptions(args)));
