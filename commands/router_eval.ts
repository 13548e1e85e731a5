/**
 * `moe router eval`: per-class precision, recall, F1, accuracy and the confusion matrix of a
 * router at several window lengths, or every classifier kind compared (`--compare`).
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import {
  CLASSIFIER_KINDS,
  evaluateRouter,
  formatReport,
  type LabelledTexts,
  type LengthReport,
  readDatasetSplit,
  readInputs,
  readLabelledJsonl,
  Router,
  trainRouter,
} from "../core/routing/mod.ts";
import { SPLITS } from "../core/data/mod.ts";
import { parseClassInputs as parseInputs } from "./_inputs.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { collect, integerIn, numberIn } from "./_option_values.ts";
import { trainingData } from "./router_train.ts";

interface EvalFlags extends GlobalOptions {
  model?: string;
  data?: string;
  split: string;
  input: string[];
  jsonl?: string;
  lengths: string;
  windows: number;
  seed: number;
  minConfidence: number;
  compare?: boolean;
  trainData?: string;
  trainWindows: number;
  skipTextIn: string[];
}

/** One router's reports: its name, classifier, training seconds (`--compare`) and lengths. */
interface RouterResult {
  name: string;
  classifier: string;
  trainSeconds: number | null;
  reports: LengthReport[];
}

function parseLengths(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  // subtle: Number("") is 0, so "32,,128" would quietly add whole documents without this check.
  const lengths = parts.map((s) => s === "" ? NaN : Number(s));
  if (lengths.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(
      `Invalid --lengths "${value}": expected comma-separated character counts (0 = whole documents)`,
    );
  }
  return lengths;
}

async function evalData(flags: EvalFlags): Promise<LabelledTexts> {
  const sources = [flags.data, flags.jsonl, flags.input.length > 0 ? "x" : undefined].filter(
    Boolean,
  );
  if (sources.length !== 1) {
    throw new UsageError("Give exactly one of --data DIR, --jsonl FILE, --input CLASS=PATH");
  }
  if (flags.jsonl) return await readLabelledJsonl(flags.jsonl);
  if (flags.data) {
    const split = await readDatasetSplit(flags.data, flags.split);
    if (!split) {
      throw new Error(
        `Cannot evaluate on "${flags.data}": the dataset has no ${flags.split} split`,
      );
    }
    return split;
  }
  return await readInputs(parseInputs(flags.input));
}

/** The `router eval` subcommand. */
export function evalCommand(): Command {
  return standardCommand(
    "eval",
    "Per-class precision/recall/F1, accuracy and confusion matrix at several window lengths",
  )
    .option("-m, --model <FILE>", "router model file")
    .option("-d, --data <DIR>", "balanced dataset (see --split)")
    .addOption(
      new Option("--split <NAME>", "split of --data to evaluate").choices(SPLITS).default("test"),
    )
    .option(
      "-i, --input <CLASS=PATH>",
      "a class and a .jsonl(.gz)/.txt file or directory (repeatable)",
      collect,
      [],
    )
    .option("--jsonl <FILE>", 'labelled JSON Lines: {"text": …, "label": …} per line')
    .option("--lengths <L,…>", "window lengths in characters (0 = whole documents)", "32,128,1024")
    .option("--windows <N>", "windows per class and length", integerIn(1, 1e7), 2000)
    .option("--seed <N>", "seed for window sampling", integerIn(0, 2 ** 31 - 1), 7)
    .option("--min-confidence <P>", "count predictions below P as unknown", numberIn(0, 1), 0)
    .option(
      "--skip-text-in <CLASS>",
      "leave out windows of this Python class lying wholly inside string literals or comments (repeatable)",
      collect,
      [],
    )
    .option(
      "--compare",
      "train every classifier kind on --train-data and compare them",
    )
    .option("--train-data <DIR>", "balanced dataset whose train split --compare trains on")
    .option(
      "--train-windows <N>",
      "training windows per class for --compare",
      integerIn(10, 1e7),
      4000,
    )
    .addHelpText(
      "after",
      `
Examples:
  moe router eval --model router.json --data data/balanced --split test
  moe router eval --model router.json --input en=fixtures/ood/en-gimp-help.jsonl.gz --input py=fixtures/ood/py-numpy.jsonl.gz --lengths 128
  moe router eval --model router.json --jsonl labelled.jsonl --lengths 0 --json
  moe router eval --model router.json --data data/balanced --lengths 32 --skip-text-in py
  moe router eval --compare --train-data data/balanced --data data/balanced --lengths 32,128`,
    )
    .action(action(evaluate));
}

/** Reads the data, evaluates `--model` (and `--compare`'s routers), prints the reports. */
async function evaluate(flags: EvalFlags, cmd: Command): Promise<void> {
  const lengths = parseLengths(flags.lengths);
  checkEvalFlags(flags, cmd);
  const data = await evalData(flags);
  const missing = flags.skipTextIn.filter((c) => !data.has(c));
  if (missing.length > 0) {
    throw new UsageError(
      `--skip-text-in ${missing.join(", ")}: no such class in the evaluation data (classes: ${
        [...data.keys()].join(", ")
      })`,
    );
  }
  const options = {
    lengths,
    windowsPerClass: flags.windows,
    seed: flags.seed,
    minConfidence: flags.minConfidence,
    skipTextIn: flags.skipTextIn,
  };
  const results: RouterResult[] = (await routersToEvaluate(flags)).map((
    [name, router, seconds],
  ) => ({
    name,
    classifier: router.model.kind,
    trainSeconds: seconds,
    reports: evaluateRouter(router, data, options),
  }));
  if (flags.json) return printJson({ results });
  if (results.length === 1) {
    console.log(results[0]!.reports.map(formatReport).join("\n\n"));
    return;
  }
  printComparison(results, lengths);
}

/** The flags that only make sense together (`--split` with `--data`, `--train-*` with `--compare`). */
function checkEvalFlags(flags: EvalFlags, cmd: Command): void {
  const given = (option: string) => cmd.getOptionValueSource(option) === "cli";
  if (!flags.data && given("split")) {
    throw new UsageError("--split needs --data DIR: it names a split of that dataset");
  }
  const compareOnly: [string, string][] = [
    ["trainData", "--train-data"],
    ["trainWindows", "--train-windows"],
  ];
  for (const [key, flag] of compareOnly) {
    if (!flags.compare && given(key)) {
      throw new UsageError(
        `${flag} needs --compare: it sets how the compared classifiers train`,
      );
    }
  }
  if (!flags.model && !flags.compare) {
    throw new UsageError("Give --model FILE, or --compare with --train-data DIR");
  }
  if (flags.compare && !flags.trainData) {
    throw new UsageError("--compare needs --train-data DIR to train the classifiers on");
  }
}

/** `--model`'s router, then (`--compare`) one trained per classifier kind with its seconds. */
async function routersToEvaluate(flags: EvalFlags): Promise<[string, Router, number | null][]> {
  const routers: [string, Router, number | null][] = [];
  if (flags.model) routers.push([flags.model, await Router.load(flags.model), null]);
  if (flags.compare) {
    const [train, val] = await trainingData({ data: flags.trainData!, input: [] });
    for (const kind of CLASSIFIER_KINDS) {
      const t0 = performance.now();
      const { router } = trainRouter(train, val, {
        classifier: kind,
        windowsPerClass: flags.trainWindows,
      });
      routers.push([kind, router, (performance.now() - t0) / 1000]);
    }
  }
  return routers;
}

/** One row per router: training seconds, then macro F1 and accuracy at each length. */
function printComparison(results: RouterResult[], lengths: number[]): void {
  const head = [
    "classifier",
    "train s",
    ...lengths.flatMap((l) => [`F1@${l || "doc"}`, `acc@${l || "doc"}`]),
  ];
  console.log(head.map((h) => h.padStart(12)).join(""));
  for (const r of results) {
    const cells = [r.name, r.trainSeconds === null ? "-" : r.trainSeconds.toFixed(1)];
    for (const rep of r.reports) cells.push(rep.macro.f1.toFixed(4), rep.accuracy.toFixed(4));
    console.log(cells.map((c) => c.padStart(12)).join(""));
  }
}
