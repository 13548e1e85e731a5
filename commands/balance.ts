/**
 * `moe balance`: build a balanced, de-duplicated, group-split dataset from corpora of any classes.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable, withAtomicDir } from "../core/files/mod.ts";
import {
  balance,
  type MeasureName,
  MEASURES,
  NoDocumentFitsError,
  parseSplit,
} from "../core/data/mod.ts";
import { parseClassInputs as parseInputs } from "./_inputs.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { asUsageError, collect, integerIn, numberIn } from "./_option_values.ts";

interface BalanceFlags extends GlobalOptions {
  input: string[];
  out: string;
  by: MeasureName;
  target: string;
  maxDiffPercent: number;
  minChars: number;
  seed: number;
  split: string;
  tokenizer?: string;
  force?: boolean;
}

const EXAMPLES = `
Examples:
  moe balance --input en=fixtures/corpus/en.jsonl.gz --input fr=fixtures/corpus/fr.jsonl.gz \\
    --input de=fixtures/corpus/de.jsonl.gz --input py=fixtures/corpus/py.jsonl.gz --out data/balanced
  moe balance --input py=src/ --input en=notes.txt --by bytes --target 1000000 --out data/b --json`;

/** The `balance` command. */
export function balanceCommand(): Command {
  return standardCommand(
    "balance",
    "Balance corpora by size into de-duplicated, group-split train/val/test sets",
  )
    .requiredOption(
      "-i, --input <CLASS=PATH>",
      "a class and a .jsonl(.gz), .txt file or directory (repeatable)",
      collect, // no default: an empty list would satisfy commander's check and balance nothing
    )
    .requiredOption("-o, --out <DIR>", "output directory (written atomically)")
    .addOption(new Option("--by <UNIT>", "size measure").choices(MEASURES).default("chars"))
    .option("--target <min|N>", "per-class size: the smallest class, or N units", "min")
    .option(
      "--max-diff-percent <P>",
      "allowed excess of a class over the target",
      numberIn(0, 1000),
      1,
    )
    .option(
      "--min-chars <N>",
      "drop documents shorter than N characters",
      integerIn(0, 1e12),
      1,
    )
    .option("--seed <N>", "seed for selection and splitting", integerIn(0, 2 ** 32 - 1), 1)
    .option("--split <TRAIN,VAL,TEST>", "split fractions by group", "0.98,0.01,0.01")
    .option("--tokenizer <FILE>", "tokenizer.json, for --by tokens")
    .option("--force", "replace the output directory if it exists")
    .addHelpText("after", EXAMPLES)
    .action(action(async (flags: BalanceFlags) => {
      const inputs = parseInputs(flags.input);
      const split = await asUsageError(() => parseSplit(flags.split));
      const target = parseTarget(flags.target);
      if (flags.by === "tokens" && !flags.tokenizer) {
        throw new UsageError("--by tokens needs --tokenizer FILE");
      }
      const reads = [...[...inputs.values()].flat(), flags.tokenizer];
      if (flags.force) await assertReplaceable(flags.out, { kind: "dir", inputs: reads });
      const tokens = flags.tokenizer ? await loadTokenCounter(flags.tokenizer) : undefined;
      const progress = createProgress({ quiet: flags.json ?? false, unit: "MB", scale: 1e6 });
      const { manifest, warnings } = await withAtomicDir(flags.out, (tmp) =>
        balance(tmp, {
          inputs,
          by: flags.by,
          target,
          maxDiffPercent: flags.maxDiffPercent,
          minChars: flags.minChars,
          seed: flags.seed,
          split,
          command: ["moe", ...Deno.args],
          progress,
          ...(tokens ? { countTokens: tokens.count, tokenizer: tokens.info } : {}),
        }).catch(addFitAdvice), {
        replace: flags.force ?? false,
        inputs: reads,
        command: "balance",
      });
      for (const warning of warnings) console.error(`moe: warning: ${warning}`);
      if (flags.json) return printJson({ out: flags.out, ...manifest, warnings });
      console.log(summaryTable(manifest.files, flags.by));
      console.log(`wrote ${flags.out}/manifest.json`);
    }));
}

/** Adds to a class no document fits the flags that would let one in (the core names none). */
function addFitAdvice(error: unknown): never {
  if (!(error instanceof NoDocumentFitsError)) throw error;
  const percent = error.percentToFit;
  // --max-diff-percent stops at 1000: past that only a larger --target helps.
  const raise = percent <= 1000 ? `--max-diff-percent ${percent} or ` : "";
  throw new Error(
    `${error.message}: allow it with ${raise}--target ${error.details.smallest} or more`,
  );
}

function parseTarget(value: string): "min" | number {
  if (value === "min") return "min";
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`Invalid --target "${value}": expected "min" or a positive number`);
  }
  return n;
}

async function loadTokenCounter(path: string) {
  // The tokenizer module arrives with issue 3; imported lazily so balance works without it.
  const { loadTokenizer } = await import("../core/tokenizer/mod.ts");
  const tokenizer = await loadTokenizer(path);
  return {
    count: (text: string) => tokenizer.encode(text).length,
    info: { path, fingerprint: tokenizer.fingerprint },
  };
}

function summaryTable(
  files: Record<
    string,
    { docs: number; chars: number; bytes: number; tokens?: number; groups: number }
  >,
  by: MeasureName,
): string {
  const rows = Object.entries(files).map(([rel, f]) =>
    `${rel.padEnd(24)} ${String(f.docs).padStart(8)} ${String(f.groups).padStart(7)} ${
      String(f.chars).padStart(12)
    } ${String(f.bytes).padStart(12)}${f.tokens === undefined ? "" : String(f.tokens).padStart(12)}`
  );
  const header = `${"file".padEnd(24)} ${"docs".padStart(8)} ${"groups".padStart(7)} ${
    "chars".padStart(12)
  } ${"bytes".padStart(12)}${by === "tokens" ? "tokens".padStart(12) : ""}`;
  return [header, ...rows].join("\n");
}
