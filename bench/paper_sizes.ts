/**
 * `deno task bench paper_sizes [--steps 2] [--threads 2] [--only student-6l,…] [--out DIR]`
 *
 * The paper's sizes proven to run on this machine (issue #21): a few optimizer steps of
 * distillation at context 1024, batch 1, from a GPT-2-medium-shaped teacher into each of the
 * paper's students — `GPT_CONFIGS` `paper-teacher` (24 layers, d 1024, 16 heads) into
 * `paper-student-6l` and `paper-student-3l` (d 768, 12 heads) and into JEET and MoE-CE mixtures of
 * four `paper-expert`s (3 layers, d 768, 6 heads), vocabulary 32 000.
 *
 * The teacher has random weights (the cost does not depend on them) and is written at run time as
 * a Hugging Face GPT-2 folder — `config.json`, `model.safetensors` (1.3 GB), a 32 000-token
 * `tokenizer.json` — and read as `--teacher` reads one; the shards are pseudo-random ids under
 * that tokenizer. Each run is a child process of its own under `/usr/bin/time -v`, whose "Maximum
 * resident set size" is the run's peak RSS: it reads the teacher, trains (each step timed through
 * the progress interface the trainer reports to), evaluates one window per class and writes the
 * final checkpoint, as `moe distill` and `moe train-moe` do. Seconds per step is the mean of
 * `--steps` timed steps after every session's first run (one step for a student; one per class
 * for a mixture, whose classes each have their own step graph).
 *
 * Writes `OUT/paper-sizes.json` (default `docs/results/paper-sizes/`) and `OUT/table.md`, the
 * README's table rendered from the JSON by {@linkcode paperSizesTable}; `deno run -A
 * bench/paper_sizes.ts --table OUT` renders it again from the JSON alone.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BenchResult } from "./_result.ts";
import {
  type PaperSizeRecord,
  type PaperSizesReport,
  paperSizesTable,
} from "./_paper_sizes_table.ts";
import { syntheticShards } from "./_synthetic.ts";
import type { Progress } from "../core/job/mod.ts";
import { distill, type DistillSettings, parseAlpha } from "../pipeline/distill/mod.ts";
import { writeHfGpt2Folder } from "../pipeline/hf/mod.ts";
import { variantSizes } from "../studies/moe_variants/moe_variants_size.ts";
import { moeTrainOptions, trainMoE } from "../pipeline/moe/mod.ts";
import { openBackend } from "../core/runtime/mod.ts";
import { loadTokenizer, saveTokenizer } from "../core/tokenizer/mod.ts";
import type { TrainOptions } from "../pipeline/training/mod.ts";
import { ADAMW_DEFAULTS } from "../core/optim/mod.ts";
import { GPT_CONFIGS, type GPTConfig, initGPT } from "../models/gpt.ts";
import type { MoEVariant } from "../models/moe.ts";

const VOCAB = 32000;
const CLASSES = ["c0", "c1", "c2", "c3"];
const TEACHER = GPT_CONFIGS["paper-teacher"];
const SEQ_LEN = 1024;
/** The paper's loss: α·CE + (1 − α)·forward KL, α = ½, τ = 1. */
const PAPER_LOSS: DistillSettings = {
  kd: "forward",
  temperature: 1,
  alpha: parseAlpha("0.5"),
  lossSchedule: "combined",
};

/** One distillation of the benchmark: a single student, or a mixture of experts. */
interface PaperRun {
  name: string;
  /** The `GPT_CONFIGS` preset of the student or of every expert. */
  preset: keyof typeof GPT_CONFIGS;
  /** A mixture of the experts over {@linkcode CLASSES}, or null for one student. */
  variant: MoEVariant | null;
}

export { type PaperSizeRecord, type PaperSizesReport, paperSizesTable };

/** The runs, in the table's order. */
export const PAPER_RUNS: readonly PaperRun[] = [
  { name: "student-6l", preset: "paper-student-6l", variant: null },
  { name: "student-3l", preset: "paper-student-3l", variant: null },
  { name: "jeet", preset: "paper-expert", variant: "jeet" },
  { name: "moe-ce", preset: "paper-expert", variant: "moe-ce" },
];

interface Options {
  steps: number;
  threads: number;
  only: string[];
  out: string;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      steps: { type: "string", default: "2" },
      threads: { type: "string", default: "2" },
      only: { type: "string", default: PAPER_RUNS.map((r) => r.name).join(",") },
      out: { type: "string", default: "docs/results/paper-sizes" },
    },
  });
  const only = values.only.split(",");
  const unknown = only.filter((n) => !PAPER_RUNS.some((r) => r.name === n));
  if (unknown.length > 0) {
    throw new RangeError(
      `Invalid --only ${unknown.join(",")}: expected ${PAPER_RUNS.map((r) => r.name).join(", ")}`,
    );
  }
  return { steps: Number(values.steps), threads: Number(values.threads), only, out: values.out };
}

/**
 * A byte-level BPE of exactly `vocab` tokens: the 256 bytes, `vocab − 257` merges of byte pairs
 * (pair k joins bytes ⌊k/256⌋ and k mod 256), and `<|endoftext|>` last.
 */
async function writeTokenizer(path: string, vocab: number): Promise<string> {
  const merges = vocab - 257;
  return await saveTokenizer(path, {
    byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
    merges: Int32Array.from({ length: 2 * merges }, (_, i) => i % 2 ? (i >> 1) % 256 : (i >> 9)),
    mergeIds: Int32Array.from({ length: merges }, (_, k) => 256 + k),
    specials: [{ content: "<|endoftext|>", id: vocab - 1 }],
  });
}

/** The teacher as a Hugging Face folder and the shards, in `dir` (run in a child of its own). */
async function prepare(dir: string, steps: number): Promise<void> {
  const teacher = join(dir, "teacher");
  await Deno.mkdir(teacher, { recursive: true });
  const tokenizerPath = join(dir, "tokenizer.json");
  const fingerprint = await writeTokenizer(tokenizerPath, VOCAB);
  const tokenizer = await loadTokenizer(tokenizerPath);
  if (tokenizer.vocabSize !== VOCAB || tokenizer.fingerprint !== fingerprint) {
    throw new Error(`The benchmark's tokenizer has ${tokenizer.vocabSize} tokens, not ${VOCAB}`);
  }
  await writeHfGpt2Folder(teacher, {
    model: TEACHER,
    values: initGPT(TEACHER, 7),
    tokenizerPath,
    eotId: VOCAB - 1,
  });
  // Every step reads one window of 1 + SEQ_LEN tokens of one class; leave room for all of them.
  await syntheticShards(join(dir, "tokens"), VOCAB, (steps + 4) * (SEQ_LEN + 1), {
    classes: CLASSES,
    tokenizer: { path: tokenizerPath, fingerprint },
  });
}

/** A progress sink that records when each step ends (the trainer reports after every step). */
function stepClock(): { progress: Progress; ends: number[] } {
  const ends: number[] = [];
  let phase = "";
  return {
    ends,
    progress: {
      start: (_, label) => void (phase = label),
      update: () => void (phase === "train" && ends.push(performance.now())),
      stop: () => void (phase = ""),
    },
  };
}

/** One run in this process: the steps' wall times and the final loss. */
async function child(run: PaperRun, dir: string, steps: number, threads: number) {
  const { backend } = await openBackend("cpu", { threads });
  const model: GPTConfig = { ...GPT_CONFIGS[run.preset], vocabSize: VOCAB };
  const base: Omit<TrainOptions, "model" | "schedule" | "order" | "accumulate"> = {
    data: join(dir, "tokens"),
    modelName: run.preset,
    batch: 1,
    seqLen: SEQ_LEN,
    lr: { lr: 6e-4, minLr: 6e-5, warmup: 1, steps, decay: "cosine" },
    adamw: ADAMW_DEFAULTS,
    evalEvery: 0,
    evalRows: 1,
    checkpointEvery: 0,
    keep: 1,
    seed: 1,
  };
  const teacher = join(dir, "teacher");
  const { progress, ends } = stepClock();
  const started = performance.now();
  const ctx = {
    backend,
    out: join(dir, `run-${run.name}`),
    tokenizerPath: join(dir, "tokenizer.json"),
    progress,
  };
  const summary = run.variant === null
    ? await distill(
      { ...base, model, schedule: "balanced", order: [CLASSES[0]!], accumulate: 1 },
      { teacher, cache: null, ...PAPER_LOSS },
      ctx,
    )
    : await trainMoE(
      { model, classes: CLASSES, variant: run.variant },
      moeTrainOptions({ model, classes: CLASSES, variant: run.variant }, base),
      ctx,
      { teacher, ...PAPER_LOSS },
    );
  // The first step ends `ends[0]` after the loop started: the sessions' set-up is before it.
  const stepSeconds = ends.map((t, i) => (t - (i === 0 ? started : ends[i - 1]!)) / 1000);
  return { stepSeconds, finalLoss: summary.finalLoss };
}

/** Runs `deno run bench/paper_sizes.ts ARGS` under `/usr/bin/time -v`: its output and peak RSS. */
async function measured(args: string[]): Promise<{ stdout: string; peakMB: number; wall: number }> {
  const started = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `paper-sizes ${args.join(" ")} failed:\n${stderr.split("\n").slice(-30).join("\n")}`,
    );
  }
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  return { stdout, peakMB: kb / 1024, wall: (performance.now() - started) / 1000 };
}

/** Stored and per-token parameters of a run. */
function sizes(run: PaperRun): { parameters: number; activeParameters: number } {
  const model = { ...GPT_CONFIGS[run.preset], vocabSize: VOCAB };
  const s = variantSizes(model, TEACHER, CLASSES.length);
  const key = run.variant === null
    ? "common"
    : run.variant === "jeet"
    ? "jeet-routed"
    : "moe-ce-routed+common";
  return { parameters: s[key]!.total, activeParameters: s[key]!.active };
}

/** Writes `dir/table.md` from `report`. */
async function writeTable(dir: string, report: PaperSizesReport): Promise<void> {
  await Deno.writeTextFile(join(dir, "table.md"), paperSizesTable(report) + "\n");
}

/** Prepares the teacher and shards, runs each student in a child, writes the JSON and table. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const o = parseOptions(args);
  const dir = await Deno.makeTempDir({ prefix: "moe-paper-sizes-" });
  const loadBefore = Deno.loadavg();
  const records: PaperSizeRecord[] = [];
  try {
    await measured(["--prepare", dir, String(CLASSES.length + o.steps)]);
    for (const r of PAPER_RUNS.filter((r) => o.only.includes(r.name))) {
      records.push(await measureRun(r, dir, o));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const report = paperSizesReport(records, o.threads, loadBefore);
  await Deno.mkdir(o.out, { recursive: true });
  await Deno.writeTextFile(join(o.out, "paper-sizes.json"), JSON.stringify(report, null, 2) + "\n");
  await writeTable(o.out, report);
  return records.flatMap(benchResults);
}

/** Runs `r` in a child process of its own: what it measured, as a record of the report. */
async function measureRun(r: PaperRun, dir: string, o: Options): Promise<PaperSizeRecord> {
  const warmUpSteps = r.variant === null ? 1 : CLASSES.length;
  const steps = warmUpSteps + o.steps;
  const m = await measured(["--child", r.name, dir, String(steps), String(o.threads)]);
  const { stepSeconds, finalLoss } = JSON.parse(m.stdout.trim().split("\n").at(-1)!);
  const timed = (stepSeconds as number[]).slice(warmUpSteps);
  const cfg = GPT_CONFIGS[r.preset];
  console.error(`paper-sizes: ${r.name} done (${m.wall.toFixed(0)} s, ${m.peakMB.toFixed(0)} MB)`);
  return {
    name: r.name,
    model: {
      preset: r.preset,
      layers: cfg.layers,
      dModel: cfg.dModel,
      heads: cfg.heads,
      contextLength: cfg.contextLength,
    },
    variant: r.variant,
    ...sizes(r),
    steps,
    warmUpSteps,
    stepSeconds,
    secondsPerStep: timed.reduce((a, b) => a + b, 0) / timed.length,
    peakRssMB: m.peakMB,
    wallSeconds: m.wall,
    finalLoss,
  };
}

/** `paper-sizes.json`: the records with the machine, its load and the teacher. */
function paperSizesReport(
  records: PaperSizeRecord[],
  threads: number,
  loadBefore: number[],
): PaperSizesReport {
  return {
    date: new Date().toISOString().slice(0, 10),
    machine: {
      cpus: navigator.hardwareConcurrency,
      memoryGB: Deno.systemMemoryInfo().total / 2 ** 30,
      loadBefore,
      loadAfter: Deno.loadavg(),
    },
    backend: "cpu",
    threads: threads,
    teacher: {
      preset: "paper-teacher",
      layers: TEACHER.layers,
      dModel: TEACHER.dModel,
      heads: TEACHER.heads,
      contextLength: TEACHER.contextLength,
      vocabSize: VOCAB,
      parameters: variantSizes(TEACHER, TEACHER, 1).teacher!.total,
    },
    batch: 1,
    seqLen: SEQ_LEN,
    runs: records,
  };
}

/** The two rows of the bench table of a record: seconds per step and peak RSS. */
function benchResults(r: PaperSizeRecord): BenchResult[] {
  return [
    {
      metric: `paper-sizes.${r.name} (${r.model.preset}, batch 1 × ${SEQ_LEN})`,
      unit: "s/step",
      ours: r.secondsPerStep,
      reference: null,
      ratio: null,
    },
    {
      metric: `paper-sizes.${r.name} peak RSS`,
      unit: "MB",
      ours: r.peakRssMB,
      reference: null,
      ratio: null,
    },
  ];
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  if (mode === "--prepare") await prepare(rest[0]!, Number(rest[1]));
  if (mode === "--table") {
    const report = JSON.parse(await Deno.readTextFile(join(rest[0]!, "paper-sizes.json")));
    await writeTable(rest[0]!, report as PaperSizesReport);
  }
  if (mode === "--child") {
    const r = PAPER_RUNS.find((x) => x.name === rest[0])!;
    console.log(JSON.stringify(await child(r, rest[1]!, Number(rest[2]), Number(rest[3]))));
  }
}
