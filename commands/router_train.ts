/**
 * `moe router train`: fit the per-sequence router on a balanced dataset or on `--input` files,
 * and read the training data (also what `moe router eval --compare` trains on).
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { assertReplaceable, writeFileAtomic } from "../core/files/mod.ts";
import {
  CLASSIFIER_KINDS,
  type ClassifierKind,
  type LabelledTexts,
  readDatasetSplit,
  readInputs,
  type Router,
  type RouterTrainReport,
  trainRouter,
} from "../core/routing/mod.ts";
import { parseClassInputs as parseInputs } from "./_inputs.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { collect, integerIn } from "./_option_values.ts";

interface TrainFlags extends GlobalOptions {
  data?: string;
  input: string[];
  out: string;
  classifier: ClassifierKind;
  windows: number;
  minLength: number;
  maxLength: number;
  seed: number;
  proseFromCode: boolean;
  technicalProse: boolean;
  force?: boolean;
}

/** Where the training data comes from; checked before anything is read or written. */
function trainingSource(
  flags: { data?: string; input: string[] },
): { data: string } | { inputs: Map<string, string[]> } {
  if (flags.data && flags.input.length > 0) {
    throw new UsageError("Give either --data or --input, not both");
  }
  if (flags.data) return { data: flags.data };
  if (flags.input.length === 0) {
    throw new UsageError("Give the training data: --data DIR or --input CLASS=PATH");
  }
  return { inputs: parseInputs(flags.input) };
}

/**
 * The router's training texts (and the validation split that calibrates it, for a dataset).
 *
 * @param flags `--data DIR`, or `--input CLASS=PATH` specs.
 * @returns The train texts per class, and the val texts (null for `--input`).
 * @throws {UsageError} Unless exactly one of the two sources is given.
 */
export async function trainingData(
  flags: { data?: string; input: string[] },
): Promise<[LabelledTexts, LabelledTexts | null]> {
  const source = trainingSource(flags);
  if ("inputs" in source) return [await readInputs(source.inputs), null];
  const train = await readDatasetSplit(source.data, "train");
  if (!train) throw new Error(`Cannot train on "${source.data}": the dataset has no train split`);
  return [train, await readDatasetSplit(source.data, "val")];
}

/** The `router train` subcommand. */
export function trainCommand(): Command {
  return standardCommand(
    "train",
    "Train a router on a balanced dataset (classes = its class names)",
  )
    .option(
      "-d, --data <DIR>",
      "balanced dataset written by moe balance (train split; val calibrates)",
    )
    .option(
      "-i, --input <CLASS=PATH>",
      "or: a class and a .jsonl(.gz)/.txt file or directory (repeatable)",
      collect,
      [],
    )
    .requiredOption("-o, --out <FILE>", "model file to write (JSON)")
    .addOption(
      new Option("--classifier <KIND>", "classifier").choices(CLASSIFIER_KINDS).default(
        "logistic-nb",
      ),
    )
    .option("--windows <N>", "training windows per class", integerIn(10, 1e7), 12000)
    .option("--min-length <N>", "shortest training window (characters)", integerIn(1, 1e6), 32)
    .option(
      "--max-length <N>",
      "longest training window (characters)",
      integerIn(1, 1e6),
      1024,
    )
    .option("--seed <N>", "seed for window sampling", integerIn(0, 2 ** 31 - 1), 1)
    .option("--no-prose-from-code", "do not add re-flowed docstring/comment prose of py to en")
    .option(
      "--no-technical-prose",
      "do not add en/fr/de windows quoting identifiers, paths and options of py",
    )
    .option("--force", "replace the model file if it exists")
    .addHelpText(
      "after",
      `
Examples:
  moe router train --data data/balanced --out router.json
  moe router train --input en=fixtures/corpus/en.jsonl.gz --input fr=fixtures/corpus/fr.jsonl.gz \\
    --input de=fixtures/corpus/de.jsonl.gz --input py=fixtures/corpus/py.jsonl.gz --windows 1500 --out router.json`,
    )
    .action(action(async (flags: TrainFlags) => {
      await checkTrainFlags(flags);
      const [train, val] = await trainingData(flags);
      const progress = createProgress({ quiet: flags.json ?? false });
      let phase = "";
      const { router, report } = trainRouter(train, val, {
        classifier: flags.classifier,
        windowsPerClass: flags.windows,
        minLength: flags.minLength,
        maxLength: flags.maxLength,
        seed: flags.seed,
        ...(flags.proseFromCode ? {} : { proseFromCode: null }),
        ...(flags.technicalProse ? {} : { technicalProse: null }),
        onProgress: (name, done, total) => {
          if (name !== phase) progress.start(total, phase = name);
          progress.update(done);
        },
      });
      progress.stop();
      await writeFileAtomic(flags.out, router.toJson());
      if (flags.json) return printJson({ out: flags.out, classes: router.classes, ...report });
      printTrainSummary(flags, router, report);
    }));
}

/** Usage errors first, then whether `--out` may be written (`--force`), before any reading. */
async function checkTrainFlags(flags: TrainFlags): Promise<void> {
  if (flags.minLength > flags.maxLength) {
    throw new UsageError("--min-length is above --max-length");
  }
  trainingSource(flags); // usage errors before the output is looked at
  if (!flags.force && await Deno.stat(flags.out).then(() => true, () => false)) {
    throw new Error(
      `Cannot write "${flags.out}": it already exists (use --force to replace it)`,
    );
  }
  if (flags.force) {
    // The paths of --input CLASS=PATH; a malformed spec is reported by trainingData.
    const inputs = [
      flags.data,
      ...flags.input.map((spec) => spec.slice(spec.indexOf("=") + 1)),
    ];
    await assertReplaceable(flags.out, { kind: "file", inputs });
  }
}

/** What was trained, in two lines. */
function printTrainSummary(flags: TrainFlags, router: Router, report: RouterTrainReport): void {
  console.log(
    `trained ${flags.classifier} router on ${report.windows} windows (${
      router.classes.join(", ")
    }; ` +
      `${report.augmentedWindows - report.technicalProseWindows} prose-from-code, ` +
      `${report.technicalProseWindows} technical prose), ${report.dimension} features, ` +
      `temperature ${report.temperature.toFixed(3)}, ${
        (report.seconds.features + report.seconds.fit).toFixed(1)
      } s`,
  );
  console.log(`wrote ${flags.out}`);
}
