/**
 * `moe tokenizer encode` and `moe tokenizer decode`: a balanced dataset into token shards (or one
 * text into ids), and ids or a range of a shard back to text.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable, withAtomicDir } from "../core/files/mod.ts";
import { utf8Length } from "../core/data/mod.ts";
import { encodeDataset, loadTokenizer, openShard } from "../core/tokenizer/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { integerIn } from "./_option_values.ts";

interface EncodeFlags extends GlobalOptions {
  tokenizer: string;
  data?: string;
  out?: string;
  text?: string;
  threads: number;
  force?: boolean;
}

/** The `tokenizer encode` subcommand. */
export function encodeCommand(): Command {
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
      integerIn(1, 256),
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
      if (flags.text !== undefined) return await encodeText(flags, flags.text);
      await encodeShards(flags, flags.data!, flags.out!);
    }));
}

/** `--text`: its ids on one line (or `--json` with the counts). */
async function encodeText(flags: EncodeFlags, text: string): Promise<void> {
  const tokenizer = await loadTokenizer(flags.tokenizer);
  const ids = Array.from(tokenizer.encode(text));
  if (flags.json) return printJson({ ids, tokens: ids.length, bytes: utf8Length(text) });
  console.log(ids.join(" "));
}

/** `--data` into `--out` (atomically): the shards' compression table and the manifest. */
async function encodeShards(flags: EncodeFlags, data: string, out: string): Promise<void> {
  const inputs = [data, flags.tokenizer];
  if (flags.force) await assertReplaceable(out, { kind: "dir", inputs });
  const tokenizer = await loadTokenizer(flags.tokenizer);
  const progress = createProgress({ quiet: flags.json ?? false, unit: "MB", scale: 1e6 });
  const started = performance.now();
  const manifest = await withAtomicDir(
    out,
    (tmp) =>
      encodeDataset(data, tmp, {
        tokenizer,
        tokenizerPath: flags.tokenizer,
        threads: flags.threads,
        progress,
      }),
    { replace: flags.force ?? false, inputs, command: "tokenizer encode" },
  );
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    return printJson({ out, seconds: Number(seconds.toFixed(2)), ...manifest });
  }
  console.log(compressionTable(manifest.shards));
  console.log(`wrote ${out}/manifest.json (${manifest.dtype}, ${seconds.toFixed(1)} s)`);
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

interface DecodeFlags extends GlobalOptions {
  tokenizer: string;
  shard?: string;
  start: number;
  count: number;
}

/** The `tokenizer decode` subcommand. */
export function decodeCommand(): Command {
  return standardCommand(
    "decode",
    "Decode ids (arguments) or a range of a token shard back to text",
  )
    .argument("[IDS...]", "token ids")
    .requiredOption("-t, --tokenizer <FILE>", "tokenizer.json")
    .option("--shard <FILE>", "token shard (.bin) to decode instead of IDS")
    .option("--start <N>", "first token of the shard", integerIn(0, 2 ** 53), 0)
    .option("--count <N>", "number of shard tokens", integerIn(1, 2 ** 31), 1000)
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
      const ids = flags.shard
        ? await readShardRange(flags, flags.shard, tokenizer.fingerprint)
        : parseIds(args);
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

/** `--count` ids of `shard` from `--start`, checked to be encoded by the tokenizer given. */
async function readShardRange(
  flags: DecodeFlags,
  path: string,
  fingerprint: string,
): Promise<ArrayLike<number>> {
  const shard = await openShard(path);
  try {
    if (shard.header.fingerprint !== fingerprint) {
      throw new Error(
        `Cannot decode "${path}": it was encoded with tokenizer sha256 ${
          shard.header.fingerprint.slice(0, 16)
        }…, not "${flags.tokenizer}"`,
      );
    }
    const tokens = shard.header.tokens;
    if (flags.start > 0 && flags.start >= tokens) {
      throw new UsageError(
        `Invalid --start ${flags.start}: "${path}" has ${tokens} tokens (0 to ${tokens - 1})`,
      );
    }
    return await shard.read(flags.start, flags.count);
  } finally {
    shard.close();
  }
}

/** The IDS arguments, each a list separated by spaces or commas. */
function parseIds(args: string[]): number[] {
  if (args.length === 0) throw new UsageError("decode needs IDS or --shard FILE");
  return args.flatMap((arg) => arg.split(/[\s,]+/).filter((s) => s !== "")).map((s) => {
    if (!/^\d+$/.test(s)) {
      throw new UsageError(`Invalid id "${s}": expected a non-negative integer`);
    }
    return Number(s);
  });
}
