/**
 * `moe tokenizer train`: a byte-level BPE tokenizer trained on a balanced dataset's train split or
 * on any corpus files, written atomically as a Hugging Face `tokenizer.json`.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable } from "../core/files/mod.ts";
import { inputSize } from "../core/data/mod.ts";
import {
  DEFAULT_SPECIALS,
  saveTokenizer,
  trainingFiles,
  trainingTexts,
  trainTokenizer,
  type TrainTokenizerResult,
} from "../core/tokenizer/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { collect, integerIn } from "./_option_values.ts";

interface TrainFlags extends GlobalOptions {
  out: string;
  vocabSize: number;
  minFrequency: number;
  special?: string[];
  threads: number;
  force?: boolean;
}

/** The `tokenizer train` subcommand. */
export function trainCommand(): Command {
  return standardCommand(
    "train",
    "Train a tokenizer on a balanced dataset's train split or any corpus files",
  )
    .argument(
      "<INPUT...>",
      "balanced dataset directory, .jsonl(.gz), .txt file or directory of sources",
    )
    .requiredOption("-o, --out <FILE>", "tokenizer.json to write (atomically)")
    .option(
      "--vocab-size <N>",
      "total vocab size, special tokens included",
      integerIn(1, 2 ** 21),
      32000,
    )
    .option(
      "--min-frequency <N>",
      "never merge a pair seen fewer times",
      integerIn(1, 1e15),
      2,
    )
    .option(
      "--special <TOKEN>",
      "special token (repeatable; default <|endoftext|> and <|pad|>)",
      collect,
    )
    .option(
      "--threads <N>",
      "worker threads for counting",
      integerIn(1, 256),
      navigator.hardwareConcurrency,
    )
    .option("--force", "replace the output file if it exists")
    .addHelpText(
      "after",
      `
Examples:
  moe tokenizer train data/balanced --out tok.json
  moe tokenizer train fixtures/corpus/en.jsonl.gz fixtures/corpus/py.jsonl.gz --vocab-size 4000 --out tok.json --json`,
    )
    .action(action(async (inputs: string[], flags: TrainFlags) => {
      const specials = flags.special ?? DEFAULT_SPECIALS;
      checkSpecials(specials, flags.vocabSize);
      await checkOutput(flags, inputs);
      let totalBytes = 0, readBytes = 0;
      for (const file of await trainingFiles(inputs)) totalBytes += await inputSize(file);
      const started = performance.now();
      const result = await trainTokenizer(trainingTexts(inputs, (n) => readBytes += n), {
        vocabSize: flags.vocabSize,
        minFrequency: flags.minFrequency,
        specials,
        threads: flags.threads,
        progress: createProgress({ quiet: flags.json ?? false, unit: "MB", scale: 1e6 }),
        mergeProgress: createProgress({ quiet: flags.json ?? false, unit: "tok" }),
        input: { totalBytes, readBytes: () => readBytes },
        source: inputs.map((input) => `"${input}"`).join(", "),
      });
      const fingerprint = await saveTokenizer(flags.out, result.model);
      const seconds = (performance.now() - started) / 1000;
      if (result.warning) console.error(`moe: warning: ${result.warning}`);
      printTrainSummary(flags, result, fingerprint, seconds);
    }));
}

/** The special tokens must be distinct, include `<|endoftext|>` and fit in the vocabulary. */
function checkSpecials(specials: readonly string[], vocabSize: number): void {
  if (new Set(specials).size !== specials.length) {
    throw new UsageError(`Invalid --special: "${specials.join('", "')}" repeats a token`);
  }
  if (!specials.includes("<|endoftext|>")) {
    throw new UsageError(
      `Invalid --special: the list must include "<|endoftext|>" (token shards separate documents with it)`,
    );
  }
  if (vocabSize < 256 + specials.length) {
    throw new UsageError(
      `Invalid --vocab-size ${vocabSize}: it is below 256 bytes + ${specials.length} special tokens`,
    );
  }
}

/** `--out` may be written: absent, or `--force` and replaceable (not one of the inputs). */
async function checkOutput(flags: TrainFlags, inputs: string[]): Promise<void> {
  if (!flags.force && await Deno.stat(flags.out).then(() => true, () => false)) {
    throw new Error(
      `Cannot write "${flags.out}": it already exists (use --force to replace it)`,
    );
  }
  if (flags.force) await assertReplaceable(flags.out, { kind: "file", inputs });
}

/** The `--json` summary, or two lines: what was trained on, and the file written. */
function printTrainSummary(
  flags: TrainFlags,
  result: TrainTokenizerResult,
  fingerprint: string,
  seconds: number,
): void {
  const summary = {
    out: flags.out,
    vocabSize: result.vocabSize,
    merges: result.model.mergeIds.length,
    specials: result.model.specials,
    documents: result.documents,
    bytes: result.bytes,
    uniquePieces: result.uniquePieces,
    seconds: Number(seconds.toFixed(2)),
    fingerprint,
    ...(result.warning ? { warning: result.warning } : {}),
  };
  if (flags.json) return printJson(summary);
  console.log(
    `trained vocab ${summary.vocabSize} (${summary.merges} merges) on ${summary.documents} documents, ` +
      `${
        (summary.bytes / 1e6).toFixed(1)
      } MB, ${summary.uniquePieces} distinct pieces in ${summary.seconds} s`,
  );
  console.log(`wrote ${flags.out} (sha256 ${fingerprint.slice(0, 16)}…)`);
}
