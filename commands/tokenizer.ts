/**
 * `moe tokenizer`: train a byte-level BPE tokenizer, encode a balanced dataset into token shards,
 * decode ids, and show a tokenizer's figures.
 *
 * @module
 */
import { Command, Option } from "commander";
import { assertReplaceable, createProgress, UsageError, withAtomicDir } from "../core/cli/mod.ts";
import { inputSize, SPLITS, utf8Length } from "../core/data/mod.ts";
import {
  DEFAULT_SPECIALS,
  encodeDataset,
  loadTokenizer,
  measureCompression,
  openShard,
  saveTokenizer,
  trainingFiles,
  trainingTexts,
  trainTokenizer,
} from "../core/tokenizer/mod.ts";
import { action, type GlobalOptions, numberIn, printJson, standardCommand } from "./_run.ts";

/** The `tokenizer` command group. */
export function tokenizerCommand(): Command {
  return new Command("tokenizer")
    .description(
      "Train, apply and inspect the byte-level BPE tokenizer (Hugging Face tokenizer.json)",
    )
    .addCommand(trainCommand())
    .addCommand(encodeCommand())
    .addCommand(decodeCommand())
    .addCommand(infoCommand())
    .addHelpText(
      "after",
      `
Examples:
  moe tokenizer train data/balanced --vocab-size 32000 --out tok.json
  moe tokenizer encode --data data/balanced --tokenizer tok.json --out data/tokens
  moe tokenizer info --tokenizer tok.json --data data/balanced`,
    );
}

interface TrainFlags extends GlobalOptions {
  out: string;
  vocabSize: number;
  minFrequency: number;
  special?: string[];
  threads: number;
  force?: boolean;
}

function trainCommand(): Command {
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
      numberIn(1, 2 ** 21, true),
      32000,
    )
    .option(
      "--min-frequency <N>",
      "never merge a pair seen fewer times",
      numberIn(1, 1e15, true),
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
      numberIn(1, 256, true),
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
      if (new Set(specials).size !== specials.length) {
        throw new UsageError(`Invalid --special: "${specials.join('", "')}" repeats a token`);
      }
      if (!specials.includes("<|endoftext|>")) {
        throw new UsageError(
          `Invalid --special: the list must include "<|endoftext|>" (token shards separate documents with it)`,
        );
      }
      if (flags.vocabSize < 256 + specials.length) {
        throw new UsageError(
          `Invalid --vocab-size ${flags.vocabSize}: it is below 256 bytes + ${specials.length} special tokens`,
        );
      }
      if (!flags.force && await exists(flags.out)) {
        throw new Error(
          `Cannot write "${flags.out}": it already exists (use --force to replace it)`,
        );
      }
      if (flags.force) await assertReplaceable(flags.out, { kind: "file", inputs });
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
    }));
}

interface EncodeFlags extends GlobalOptions {
  tokenizer: string;
  data?: string;
  out?: string;
  text?: string;
  threads: number;
  force?: boolean;
}

function encodeCommand(): Command {
  return standardCommand(
    "encode",
    "Encode a balanced dataset into token shards, or one text into ids",
  )
    .requiredOption("-t, --tokenizer <FILE>", "tokenizer.json")
    .option("--data <DIR>", "balanced dataset directory (with --out)")
    .option("-o, --out <DIR>", "token shard directory to write: SPLIT/CLASS.bin + manifest.json")
    .option("--text <TEXT>", "encode this text and print its ids")
    .option(
      "--threads <N>",
      "workers encoding shards side by side",
      numberIn(1, 256, true),
      navigator.hardwareConcurrency,
    )
    .option("--force", "replace the output directory if it exists")
    .addHelpText(
      "after",
      `
The tokenizer is moe's own or a Hugging Face BPE tokenizer.json (GPT-2 or Llama 3 style
byte-level, Llama 2 or Mistral style SentencePiece), which encodes as Hugging Face tokenizers does.

Shard layout: a 128-byte little-endian header (magic "MOETOKS\\0", version, bytes per token 2|4,
vocab size, end-of-document id, token count, document count, tokenizer sha256) then the ids; each
document is followed by the end-of-document token: the first of <|endoftext|>, <|end_of_text|>,
</s>, <eos> that the tokenizer has as a special token.

Examples:
  moe tokenizer encode --data data/balanced --tokenizer tok.json --out data/tokens
  moe tokenizer encode --tokenizer tok.json --text "def main():" --json
  moe tokenizer encode --tokenizer fixtures/tokenizers/mistral/tokenizer.json --text "Bonjour"`,
    )
    .action(action(async (flags: EncodeFlags) => {
      if (flags.text === undefined && (!flags.data || !flags.out)) {
        throw new UsageError("encode needs --data DIR and --out DIR, or --text TEXT");
      }
      if (flags.text !== undefined && (flags.data || flags.out || flags.force)) {
        throw new UsageError("Give --text TEXT or --data DIR --out DIR, not both");
      }
      const inputs = [flags.data, flags.tokenizer];
      if (flags.text === undefined && flags.force) {
        await assertReplaceable(flags.out!, { kind: "dir", inputs });
      }
      const tokenizer = await loadTokenizer(flags.tokenizer);
      if (flags.text !== undefined) {
        const ids = Array.from(tokenizer.encode(flags.text));
        if (flags.json) {
          return printJson({ ids, tokens: ids.length, bytes: utf8Length(flags.text) });
        }
        return console.log(ids.join(" "));
      }
      const progress = createProgress({ quiet: flags.json ?? false, unit: "MB", scale: 1e6 });
      const started = performance.now();
      const manifest = await withAtomicDir(
        flags.out!,
        (tmp) =>
          encodeDataset(flags.data!, tmp, {
            tokenizer,
            tokenizerPath: flags.tokenizer,
            threads: flags.threads,
            progress,
          }),
        { replace: flags.force ?? false, inputs, command: "tokenizer encode" },
      );
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) {
        return printJson({ out: flags.out, seconds: Number(seconds.toFixed(2)), ...manifest });
      }
      console.log(compressionTable(manifest.shards));
      console.log(`wrote ${flags.out}/manifest.json (${manifest.dtype}, ${seconds.toFixed(1)} s)`);
    }));
}

interface DecodeFlags extends GlobalOptions {
  tokenizer: string;
  shard?: string;
  start: number;
  count: number;
}

function decodeCommand(): Command {
  return standardCommand(
    "decode",
    "Decode ids (arguments) or a range of a token shard back to text",
  )
    .argument("[IDS...]", "token ids")
    .requiredOption("-t, --tokenizer <FILE>", "tokenizer.json")
    .option("--shard <FILE>", "token shard (.bin) to decode instead of IDS")
    .option("--start <N>", "first token of the shard", numberIn(0, 2 ** 53, true), 0)
    .option("--count <N>", "number of shard tokens", numberIn(1, 2 ** 31, true), 1000)
    .addHelpText(
      "after",
      `
Examples:
  moe tokenizer decode --tokenizer tok.json 1820 2031 13
  moe tokenizer decode --tokenizer tok.json --shard data/tokens/val/en.bin --count 200`,
    )
    .action(action(async (args: string[], flags: DecodeFlags, cmd: Command) => {
      if (flags.shard && args.length > 0) {
        throw new UsageError("Give IDS or --shard FILE, not both");
      }
      const range = ["start", "count"].filter((o) => cmd.getOptionValueSource(o) === "cli");
      if (!flags.shard && range.length > 0) {
        throw new UsageError(`--${range[0]} needs --shard FILE: it counts the shard's tokens`);
      }
      const tokenizer = await loadTokenizer(flags.tokenizer);
      let ids: ArrayLike<number>;
      if (flags.shard) {
        const shard = await openShard(flags.shard);
        try {
          if (shard.header.fingerprint !== tokenizer.fingerprint) {
            throw new Error(
              `Cannot decode "${flags.shard}": it was encoded with tokenizer sha256 ${
                shard.header.fingerprint.slice(0, 16)
              }…, not "${flags.tokenizer}"`,
            );
          }
          const tokens = shard.header.tokens;
          if (flags.start > 0 && flags.start >= tokens) {
            throw new UsageError(
              `Invalid --start ${flags.start}: "${flags.shard}" has ${tokens} tokens (0 to ${
                tokens - 1
              })`,
            );
          }
          ids = await shard.read(flags.start, flags.count);
        } finally {
          shard.close();
        }
      } else {
        if (args.length === 0) throw new UsageError("decode needs IDS or --shard FILE");
        ids = args.flatMap((arg) => arg.split(/[\s,]+/).filter((s) => s !== "")).map((s) => {
          if (!/^\d+$/.test(s)) {
            throw new UsageError(`Invalid id "${s}": expected a non-negative integer`);
          }
          return Number(s);
        });
      }
      let text: string;
      try {
        text = tokenizer.decode(ids);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      if (flags.json) return printJson({ text, tokens: ids.length });
      await Deno.stdout.write(new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n"));
    }));
}

interface InfoFlags extends GlobalOptions {
  tokenizer: string;
  data?: string;
  split: string;
}

function infoCommand(): Command {
  return standardCommand(
    "info",
    "Show vocab size, merges, special tokens and compression per class",
  )
    .requiredOption("-t, --tokenizer <FILE>", "tokenizer.json")
    .option("--data <DIR>", "balanced dataset: measure bytes per token per class")
    .addOption(
      new Option("--split <NAME>", "split of --data to measure").choices(SPLITS).default("val"),
    )
    .addHelpText(
      "after",
      `
Examples:
  moe tokenizer info --tokenizer tok.json
  moe tokenizer info --tokenizer tok.json --data data/balanced --split test --json`,
    )
    .action(action(async (flags: InfoFlags, cmd: Command) => {
      if (!flags.data && cmd.getOptionValueSource("split") === "cli") {
        throw new UsageError("--split needs --data DIR: it names a split of that dataset");
      }
      const tokenizer = await loadTokenizer(flags.tokenizer);
      const compression = flags.data
        ? await usage(() => measureCompression(tokenizer, flags.data!, flags.split))
        : [];
      const info = {
        tokenizer: flags.tokenizer,
        fingerprint: tokenizer.fingerprint,
        vocabSize: tokenizer.vocabSize,
        merges: tokenizer.mergeCount,
        specials: tokenizer.specials,
        compression,
      };
      if (flags.json) return printJson(info);
      console.log(
        `${flags.tokenizer}: vocab ${info.vocabSize}, ${info.merges} merges, sha256 ${info.fingerprint}`,
      );
      console.log(`special tokens: ${info.specials.map((s) => `${s.content}=${s.id}`).join(" ")}`);
      if (compression.length > 0) {
        console.log(
          `${"class".padEnd(10)} ${"docs".padStart(8)} ${"bytes".padStart(12)} ${
            "tokens".padStart(12)
          } bytes/token`,
        );
        for (const c of compression) {
          console.log(
            `${c.class.padEnd(10)} ${String(c.documents).padStart(8)} ${
              String(c.bytes).padStart(12)
            } ${String(c.tokens).padStart(12)} ${c.bytesPerToken.toFixed(3)}`,
          );
        }
      }
    }));
}

function compressionTable(
  shards: Record<string, { documents: number; tokens: number; bytes: number }>,
): string {
  const lines = [
    `${"shard".padEnd(20)} ${"docs".padStart(8)} ${"tokens".padStart(12)} bytes/token`,
  ];
  for (const [rel, s] of Object.entries(shards)) {
    const ratio = s.tokens > s.documents ? s.bytes / (s.tokens - s.documents) : 0;
    lines.push(
      `${rel.padEnd(20)} ${String(s.documents).padStart(8)} ${String(s.tokens).padStart(12)} ${
        ratio.toFixed(3)
      }`,
    );
  }
  return lines.join("\n");
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function usage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof RangeError ? new UsageError(error.message) : error;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
