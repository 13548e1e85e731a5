/**
 * `deno task bench balance [--data DIR] [--gb 0.5,1,2]`: wall time and peak RSS of `moe balance`
 * on the full shared corpus, and peak RSS on generated inputs of growing size to show that memory
 * stays flat (streaming). No reference tool exists on this machine (the paper's is Python over
 * Hugging Face datasets), so `reference` is null.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchResult } from "./_result.ts";
import { type ProcessCost, timedProcess } from "./_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs `moe balance` in a subprocess; returns wall seconds and peak RSS in MB. */
function timedBalance(args: string[]): Promise<ProcessCost> {
  return timedProcess(Deno.execPath(), ["run", "-A", MAIN, "balance", ...args]);
}

/** Writes a synthetic JSONL corpus of about `bytes` bytes (6 KB documents, 50 per group). */
async function generate(path: string, bytes: number, cls: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const batch: string[] = [];
    for (let j = 0; j < 100; j++, i++) {
      const text = Array.from({ length: 900 }, (_, k) => words[(i * 7 + k * k) % 8]).join(" ") +
        ` ${cls}${i}`;
      batch.push(JSON.stringify({ id: `${cls}${i}`, group: `${cls}g${Math.floor(i / 50)}`, text }));
    }
    const chunk = encoder.encode(batch.join("\n") + "\n");
    written += chunk.length;
    await file.write(chunk);
  }
  file.close();
}

/** Runs the balance benchmark. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string", default: "../shared/data/corpus" },
      gb: { type: "string", default: "0.25,1,2" },
    },
  });
  const results: BenchResult[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "moe-bench-balance-" });
  try {
    const corpus = ["en", "fr", "de", "py"].map((c) => `${values.data}/${c}.jsonl.gz`);
    if (corpus.every((p) => Deno.statSync(p).isFile)) {
      const inputs = ["en", "fr", "de", "py"].flatMap((c, i) => ["--input", `${c}=${corpus[i]}`]);
      const full = await timedBalance([...inputs, "--out", `${tmp}/full`]);
      results.push({
        metric: "balance full corpus wall time",
        unit: "s",
        ours: full.seconds,
        reference: null,
        ratio: null,
      });
      results.push({
        metric: "balance full corpus peak RSS",
        unit: "MB",
        ours: full.peakMB,
        reference: null,
        ratio: null,
      });
    }
    for (const gb of values.gb.split(",").map(Number)) {
      const a = `${tmp}/a.jsonl`;
      const b = `${tmp}/b.jsonl`;
      await generate(a, (gb * 1e9) / 2, "a");
      await generate(b, (gb * 1e9) / 2, "b");
      const r = await timedBalance([
        "--input",
        `a=${a}`,
        "--input",
        `b=${b}`,
        "--out",
        `${tmp}/out${gb}`,
      ]);
      results.push({
        metric: `balance synthetic ${gb} GB peak RSS`,
        unit: "MB",
        ours: r.peakMB,
        reference: null,
        ratio: null,
      });
      results.push({
        metric: `balance synthetic ${gb} GB throughput`,
        unit: "MB/s",
        ours: (gb * 1e3) / r.seconds,
        reference: null,
        ratio: null,
      });
      await Deno.remove(`${tmp}/out${gb}`, { recursive: true });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return results;
}
