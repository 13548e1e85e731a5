/**
 * The tiny JEET and MoE-CE runs of the export oracle, shared by `make_hf_export.ts` (which
 * exports them into `fixtures/hf-export/` and asks transformers for their losses) and the tests
 * (which check `moe`'s losses against transformers' and export fresh runs the same way): byte
 * shards of two classes, runs of 1 layer, d 32, ctx 32 trained through the CLI, the token windows
 * of each class, and `moe`'s own mean loss of one expert or a routed + common pair on them.
 *
 * @module
 */
import { join } from "node:path";
import { readDocuments } from "../../core/data/mod.ts";
import { trainRouter } from "../../core/routing/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { openShard } from "../../core/tokenizer/mod.ts";
import { evalBatches } from "../../pipeline/training/mod.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import { buildTokenLoss } from "../../models/moe.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

/** The classes of the runs. */
export const CLASSES = ["en", "fr"];
/** The committed exports, one folder per run (`jeet/`: tied head, `moe-ce/`: untied head). */
export const FIXTURE_DIR = new URL("../../fixtures/hf-export/", import.meta.url).pathname;
/** The golden file: the windows and transformers' losses on them. */
export const GOLDEN = new URL("golden/hf_export.json", import.meta.url).pathname;
/** Windows per class and their length. */
export const ROWS = 4, SEQ_LEN = 32;

/** The runs: JEET with GPT-2's tied head, MoE-CE with the paper's untied head. */
export const RUNS = [
  { name: "jeet", variant: "jeet", head: "tied" },
  { name: "moe-ce", variant: "moe-ce", head: "untied" },
] as const;

/** Byte-level shards of {@linkcode CLASSES}. */
export function exportShards(): Promise<{ dir: string; tokenizer: string }> {
  return byteShards({ classes: CLASSES, trainBytes: 20_000 });
}

/**
 * Trains a tiny MoE through `moe train-moe` (one thread, fixed seed).
 *
 * @returns The run directory.
 */
export async function trainTinyMoE(
  shards: string,
  out: string,
  run: (typeof RUNS)[number],
  steps = 40,
): Promise<string> {
  const r = await moe([
    "train-moe",
    ...["--variant", run.variant, "--head", run.head, "--data", shards],
    ...["--config", "tiny", "--layers", "1", "--d-model", "32", "--heads", "2", "--ctx", "32"],
    ...["--batch", "4", "--steps", String(steps), "--lr", "3e-3", "--eval-rows", "4"],
    ...["--eval-every", "0", "--checkpoint-every", "0", "--backend", "cpu", "--threads", "1"],
    ...["--out", out, "--json"],
  ]);
  if (r.code !== 0) throw new Error(`moe train-moe failed: ${r.stderr}`);
  return out;
}

/**
 * A router of {@linkcode CLASSES} trained on the first documents of the fixture corpora.
 *
 * @returns `dir/router.json`.
 */
export async function exportRouter(dir: string): Promise<string> {
  const corpus = new Map<string, string[]>();
  for (const cls of CLASSES) {
    const texts: string[] = [];
    const url = new URL(`../../fixtures/corpus/${cls}.jsonl.gz`, import.meta.url).pathname;
    for await (const doc of readDocuments(url)) {
      texts.push(doc.text);
      if (texts.length === 4) break;
    }
    corpus.set(cls, texts);
  }
  const { router } = trainRouter(corpus, null, { windowsPerClass: 50, bits: 10 });
  const path = join(dir, "router.json");
  await Deno.writeTextFile(path, router.toJson());
  return path;
}

/** One class's windows: `[ROWS][SEQ_LEN]` tokens and next-token targets (−1: not counted). */
export interface Windows {
  tokens: number[][];
  targets: number[][];
}

/** The first {@linkcode ROWS} windows of each class's validation shard. */
export async function classWindows(shards: string): Promise<Record<string, Windows>> {
  const out: Record<string, Windows> = {};
  for (const cls of CLASSES) {
    const shard = await openShard(join(shards, "val", `${cls}.bin`));
    const [batch] = await evalBatches(shard, ROWS, SEQ_LEN, ROWS);
    shard.close();
    const rows = (a: BigInt64Array) =>
      Array.from(
        { length: ROWS },
        (_, r) => Array.from(a.subarray(r * SEQ_LEN, (r + 1) * SEQ_LEN), Number),
      );
    out[cls] = { tokens: rows(batch!.tokens), targets: rows(batch!.targets) };
  }
  return out;
}

/**
 * `moe`'s mean cross-entropy (nats per counted token) of one expert, or of a routed expert and
 * the common expert averaged ½–½ before their shared head, on one class's windows (cpu, float32).
 */
export async function moeLoss(
  model: GPTConfig,
  parts: ReadonlyMap<string, Float32Array>[],
  windows: Windows,
): Promise<number> {
  const geometry = { batch: ROWS, seqLen: SEQ_LEN };
  const { backend } = await openBackend("cpu", { threads: 1 });
  const session = await backend.createSession(buildTokenLoss(model, parts, geometry));
  const int64 = (rows: number[][]) => ({
    dtype: "int64" as const,
    dims: [ROWS, SEQ_LEN],
    data: BigInt64Array.from(rows.flat(), BigInt),
  });
  try {
    const out = await session.run({
      tokens: session.wrap(int64(windows.tokens)),
      targets: session.wrap(int64(windows.targets)),
    });
    const nll = (await session.download(out.nll!)).data as Float32Array;
    const counted = windows.targets.flat().filter((t) => t >= 0).length;
    return nll.reduce((s, v) => s + v, 0) / counted;
  } finally {
    await session.dispose();
  }
}
