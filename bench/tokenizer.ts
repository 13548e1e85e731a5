/**
 * `deno task bench tokenizer [--data DIR] [--mb 5] [--vocab 32000]`: our byte-level BPE against
 * SentencePiece BPE (Debian `sentencepiece`: `spm_train --model_type=bpe`, `spm_encode`) on the
 * same sample, `--mb` MB of UTF-8 text per class of the shared corpus (20 MB for four classes).
 *
 * - training wall time and peak RSS, both as subprocesses (ours: `moe tokenizer train`, with its
 *   Workers; SentencePiece with `--num_threads=2`, this machine's core count);
 * - encode throughput, reading the text, encoding and writing ids (ours: one thread, to a token
 *   shard; `spm_encode`: `--output_format=id` to a file), and `moe tokenizer encode --threads 2`
 *   end to end (process start, gunzip, shards, manifest) on a balanced copy of the sample;
 * - compression per class in UTF-8 bytes per token. SentencePiece normalises text (NFKC, collapsed
 *   whitespace) and encodes line by line without newline tokens, so its count is a lower bound on
 *   what a lossless encoding of the same text would need; ours is lossless.
 *
 * Ratios are oriented so that > 1 means ours is better (faster, smaller, more bytes per token).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { balance, readDocuments } from "../core/data/mod.ts";
import { loadTokenizer, ShardWriter } from "../core/tokenizer/mod.ts";
import { type BenchResult, ratio } from "./_result.ts";
import { timedProcess as timed } from "./_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CLASSES = ["en", "fr", "de", "py"];

/** Writes `mb` MB of each class as `CLASS.jsonl` (ours) and `CLASS.txt` (SentencePiece). */
async function sample(data: string, dir: string, mb: number): Promise<Map<string, number>> {
  const bytesPerClass = new Map<string, number>();
  const utf8 = new TextEncoder();
  for (const cls of CLASSES) {
    const lines: string[] = [], texts: string[] = [];
    let bytes = 0;
    for await (const doc of readDocuments(join(data, `${cls}.jsonl.gz`))) {
      if (bytes >= mb * 1e6) break;
      lines.push(JSON.stringify({ id: doc.id, group: doc.group, text: doc.text }));
      texts.push(doc.text);
      bytes += utf8.encode(doc.text).length;
    }
    await Deno.writeTextFile(join(dir, `${cls}.jsonl`), lines.join("\n") + "\n");
    await Deno.writeTextFile(join(dir, `${cls}.txt`), texts.join("\n") + "\n");
    bytesPerClass.set(cls, bytes);
  }
  return bytesPerClass;
}

/** Encodes each class's documents into a shard in this process; seconds and tokens per class. */
async function encodeOurs(dir: string, tokPath: string) {
  const tokenizer = await loadTokenizer(tokPath);
  const eotId = tokenizer.specialId("<|endoftext|>");
  const tokens = new Map<string, number>();
  const start = performance.now();
  for (const cls of CLASSES) {
    const writer = await ShardWriter.create(join(dir, `${cls}.bin`), {
      vocabSize: tokenizer.vocabSize,
      eotId,
      fingerprint: tokenizer.fingerprint,
    });
    for await (const doc of readDocuments(join(dir, `${cls}.jsonl`))) {
      await writer.writeDocument(tokenizer.encode(doc.text));
    }
    const header = await writer.close();
    tokens.set(cls, header.tokens - header.documents);
  }
  return { seconds: (performance.now() - start) / 1000, tokens };
}

async function countIds(path: string): Promise<number> {
  const text = await Deno.readTextFile(path);
  let n = 0;
  for (const match of text.matchAll(/\d+/g)) if (match) n++;
  return n;
}

/** Runs the tokenizer benchmark. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string", default: "../shared/data/corpus" },
      mb: { type: "string", default: "5" },
      vocab: { type: "string", default: "32000" },
    },
  });
  const vocab = Number(values.vocab), mb = Number(values.mb);
  const dir = await Deno.makeTempDir({ prefix: "moe-bench-tokenizer-" });
  try {
    const bytes = await sample(values.data, dir, mb);
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    const label = `${(total / 1e6).toFixed(0)} MB, vocab ${vocab}`;
    const trained = await trainBoth(dir, vocab);
    const encoded = await encodeOurs(dir, join(dir, "ours.json"));
    const spm = await encodeSpm(dir);
    const commandMBs = await encodeCommandMBs(dir);
    const oursMBs = total / 1e6 / encoded.seconds, spmMBs = total / 1e6 / spm.seconds;
    return [
      {
        metric: `train cpu wall time (${label})`,
        unit: "s",
        ours: trained.ours.seconds,
        reference: trained.spm.seconds,
        ratio: ratio(trained.spm.seconds, trained.ours.seconds),
      },
      {
        metric: "train cpu peak RSS",
        unit: "MB",
        ours: trained.ours.peakMB,
        reference: trained.spm.peakMB,
        ratio: ratio(trained.spm.peakMB, trained.ours.peakMB),
      },
      {
        metric: "encode cpu throughput (1 thread, read+encode+write)",
        unit: "MB/s",
        ours: oursMBs,
        reference: spmMBs,
        ratio: ratio(oursMBs, spmMBs),
      },
      {
        metric: "encode cpu throughput (moe tokenizer encode --threads 2, end to end)",
        unit: "MB/s",
        ours: commandMBs,
        reference: spmMBs,
        ratio: ratio(commandMBs, spmMBs),
      },
      ...CLASSES.map((cls) => {
        const b = bytes.get(cls)!;
        const o = b / encoded.tokens.get(cls)!, s = b / spm.tokens.get(cls)!;
        return {
          metric: `compression ${cls}`,
          unit: "bytes/token",
          ours: o,
          reference: s,
          ratio: ratio(o, s),
        };
      }),
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Trains ours (`moe tokenizer train`) and SentencePiece on the sample, each as a subprocess. */
async function trainBoth(dir: string, vocab: number) {
  const ours = await timed(Deno.execPath(), [
    ...["run", "-A", MAIN, "tokenizer", "train"],
    ...CLASSES.map((c) => join(dir, `${c}.jsonl`)),
    ...["--vocab-size", String(vocab), "--out", join(dir, "ours.json")],
  ]);
  const spm = await timed("spm_train", [
    `--input=${CLASSES.map((c) => join(dir, `${c}.txt`)).join(",")}`,
    `--model_prefix=${join(dir, "spm")}`,
    "--model_type=bpe",
    `--vocab_size=${vocab}`,
    "--num_threads=2",
  ]);
  return { ours, spm };
}

/** Encodes each class with `spm_encode`: the seconds of all classes, and tokens per class. */
async function encodeSpm(dir: string) {
  let seconds = 0;
  const tokens = new Map<string, number>();
  for (const cls of CLASSES) {
    const out = join(dir, `${cls}.spm.ids`);
    // The shell only redirects; spm_encode reads the file and writes the ids itself.
    const run = await timed("bash", [
      "-c",
      `exec spm_encode --model='${join(dir, "spm.model")}' --output_format=id < '${
        join(dir, `${cls}.txt`)
      }' > '${out}'`,
    ]);
    seconds += run.seconds;
    tokens.set(cls, await countIds(out));
  }
  return { seconds, tokens };
}

/** The command end to end on a balanced copy of the sample (gunzip, encode on 2 workers, write). */
async function encodeCommandMBs(dir: string): Promise<number> {
  const data = join(dir, "balanced");
  await Deno.mkdir(data);
  const { manifest } = await balance(data, {
    inputs: new Map(CLASSES.map((c) => [c, [join(dir, `${c}.jsonl`)]])),
    by: "bytes",
    target: "min",
    maxDiffPercent: 1000,
    minChars: 0,
    seed: 1,
    split: [1, 0, 0],
    command: [],
  });
  const datasetBytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0);
  const command = await timed(Deno.execPath(), [
    ...["run", "-A", MAIN, "tokenizer", "encode", "--data", data],
    ...["--tokenizer", join(dir, "ours.json"), "--out", join(dir, "tokens"), "--threads", "2"],
  ]);
  return datasetBytes / 1e6 / command.seconds;
}
