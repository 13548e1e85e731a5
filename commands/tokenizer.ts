/**
 * `moe tokenizer`: train a byte-level BPE tokenizer, encode a balanced dataset into token shards,
 * decode ids, and show a tokenizer's figures. `info` is here; `train`, `encode` and `decode` are
 * in `tokenizer_train.ts` and `tokenizer_codec.ts`.
 *
 * @module
 */
import { Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { SPLITS } from "../core/data/mod.ts";
import { loadTokenizer, measureCompression } from "../core/tokenizer/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { asUsageError } from "./_option_values.ts";
import { trainCommand } from "./tokenizer_train.ts";
import { decodeCommand, encodeCommand } from "./tokenizer_codec.ts";

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
        ? await asUsageError(() => measureCompression(tokenizer, flags.data!, flags.split))
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
