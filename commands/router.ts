/**
 * `moe router train | eval | route`: the per-sequence router that picks an expert for each input.
 *
 * @module
 */
import { Command, Option } from "commander";
import { assertReplaceable, createProgress, UsageError, writeFileAtomic } from "../core/cli/mod.ts";
import {
  CLASSIFIER_KINDS,
  type ClassifierKind,
  evaluateRouter,
  formatReport,
  type LabelledTexts,
  readDatasetSplit,
  readInputs,
  readLabelledJsonl,
  Router,
  trainRouter,
} from "../core/routing/mod.ts";
import { readLines, SPLITS } from "../core/data/mod.ts";
import { collect, parseClassInputs as parseInputs } from "./_inputs.ts";
import { action, type GlobalOptions, numberIn, printJson, standardCommand } from "./_run.ts";

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
  trainWindows: number;
  skipTextIn: string[];
}

interface RouteFlags extends GlobalOptions {
  model: string;
  jsonl?: string;
  minConfidence: number;
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

async function trainingData(
  flags: { data?: string; input: string[] },
): Promise<[LabelledTexts, LabelledTexts | null]> {
  const source = trainingSource(flags);
  if ("inputs" in source) return [await readInputs(source.inputs), null];
  const train = await readDatasetSplit(source.data, "train");
  if (!train) throw new Error(`Cannot train on "${source.data}": the dataset has no train split`);
  return [train, await readDatasetSplit(source.data, "val")];
}

function trainCommand(): Command {
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
    .option("--windows <N>", "training windows per class", numberIn(10, 1e7, true), 12000)
    .option("--min-length <N>", "shortest training window (characters)", numberIn(1, 1e6, true), 32)
    .option(
      "--max-length <N>",
      "longest training window (characters)",
      numberIn(1, 1e6, true),
      1024,
    )
    .option("--seed <N>", "seed for window sampling", numberIn(0, 2 ** 31 - 1, true), 1)
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
    }));
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

function evalCommand(): Command {
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
    .option("--windows <N>", "windows per class and length", numberIn(1, 1e7, true), 2000)
    .option("--seed <N>", "seed for window sampling", numberIn(0, 2 ** 31 - 1, true), 7)
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
      numberIn(10, 1e7, true),
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
    .action(action(async (flags: EvalFlags & { trainData?: string }, cmd: Command) => {
      const lengths = parseLengths(flags.lengths);
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
      const results = routers.map(([name, router, seconds]) => ({
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
    }));
}

async function routeTexts(
  flags: RouteFlags,
  texts: string[],
): Promise<string[] | AsyncGenerator<string>> {
  if (texts.length > 0) return texts;
  if (flags.jsonl) {
    const path = flags.jsonl;
    return (async function* () {
      const decoder = new TextDecoder();
      for await (const line of readLines(path)) {
        const raw = decoder.decode(line.bytes);
        if (raw.trim() === "") continue;
        let record: unknown;
        try {
          record = JSON.parse(raw);
        } catch {
          throw new SyntaxError(`Cannot read "${path}:${line.number}": malformed JSON`);
        }
        const text = (record as Record<string, unknown>)?.text;
        if (typeof text !== "string") {
          throw new SyntaxError(`Cannot read "${path}:${line.number}": no "text" string`);
        }
        yield text;
      }
    })();
  }
  return [await new Response(Deno.stdin.readable).text()];
}

function routeCommand(): Command {
  return standardCommand("route", "Route text to a class with calibrated probabilities")
    .argument("[text...]", "texts to route (default: all of stdin as one text)")
    .requiredOption("-m, --model <FILE>", "router model file")
    .option("--jsonl <FILE>", 'route the "text" of every line of a JSON Lines file (plain or .gz)')
    .option("--min-confidence <P>", "answer unknown below this probability", numberIn(0, 1), 0)
    .addHelpText(
      "after",
      `
Examples:
  moe router route --model router.json "def main(argv):" "Der Hund schläft."
  echo "Le chat dort sur le canapé." | moe router route --model router.json --json
  moe router route --model router.json --jsonl prompts.jsonl --min-confidence 0.9 --json`,
    )
    .action(action(async (texts: string[], flags: RouteFlags) => {
      if (texts.length > 0 && flags.jsonl) {
        throw new UsageError("Give texts as arguments or --jsonl, not both");
      }
      const router = await Router.load(flags.model);
      const results = [];
      for await (const text of await routeTexts(flags, texts)) {
        const r = router.route(text, flags.minConfidence);
        if (flags.json) results.push(r);
        else {
          const probs = router.classes.map((c) => `${c}=${r.probabilities[c]!.toFixed(4)}`).join(
            " ",
          );
          console.log(
            `${r.label}\t${r.confidence.toFixed(4)}\t${probs}${r.reason ? `\t(${r.reason})` : ""}`,
          );
        }
      }
      if (flags.json) printJson(results);
    }));
}

/** The `router` command group. */
export function routerCommand(): Command {
  return new Command("router")
    .description("Train, evaluate and run the per-sequence router (language/code classifier)")
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(routeCommand())
    .addHelpText(
      "after",
      `
Examples:
  moe router train --data data/balanced --out router.json
  moe router eval --model router.json --data data/balanced --split test
  moe router route --model router.json "def main(argv):" "Der Hund schläft."`,
    );
}
