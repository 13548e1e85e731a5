/**
 * `moe eval`: per-class loss and perplexity on token shards — of a bundle's experts, routed MoE,
 * common expert, oracle routing (and a teacher, and soft routing), or of one model, with a
 * bundle's routing regret and routing rules compared — the loss of any model on a text file
 * (`--text`), and a bundle on a file of documents (`--jsonl`).
 *
 * @module
 */
import { join } from "node:path";
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { createProgress } from "./_progress_bar.ts";
import { SPLITS } from "../core/data/mod.ts";
import {
  BUNDLE_FORMAT,
  checkRoutePrefix,
  type DocumentsEvalReport,
  documentsWindow,
  type EvalReport,
  evaluateBundle,
  evaluateDocuments,
  evaluateModel,
  formatEvalTable,
  formatRoutingRules,
  loadBundle,
  MIX_MODES,
  type MixMode,
  parseAverage,
  scoreText,
  scoreTextWithBundle,
  type TextScore,
} from "../pipeline/moe/mod.ts";
import { loadTokenizer } from "../core/tokenizer/mod.ts";
import { readGPTCheckpoint } from "../pipeline/training/mod.ts";
import {
  action,
  BACKEND_HELP,
  type GlobalOptions,
  openCommandBackend,
  printJson,
  standardCommand,
  THREADS_HELP,
} from "./_run.ts";
import { collect, integerIn } from "./_option_values.ts";

interface EvalFlags extends GlobalOptions {
  data?: string;
  text?: string;
  jsonl?: string;
  label?: string;
  window?: number;
  routePrefix?: number;
  split: string;
  teacher?: string;
  rows: number;
  batch: number;
  seqLen?: number;
  backend?: string;
  threads?: string;
  mix: MixMode;
  average: string[];
}

/** The `eval` command. */
export function evalCommand(): Command {
  return standardCommand(
    "eval",
    "Score a model: per class on token shards (bundles: experts, routed, common, oracle) or on a text",
  )
    .argument(
      "<MODEL>",
      "bundle (moe assemble), run or step-N directory, or Hugging Face GPT-2 folder",
    )
    .option("--data <DIR>", "token shard directory (moe tokenizer encode): the per-class table")
    .option("--text <FILE>", "a UTF-8 text file: its loss and perplexity")
    .option(
      "--jsonl <FILE>",
      'documents (.jsonl[.gz], one {"text": …} a line) in windows: a bundle\'s rows and routing rules',
    )
    .option("--label <CLASS>", "with --jsonl: the class every document belongs to")
    .option(
      "--window <N>",
      "with --jsonl: tokens per window (default: the context)",
      integerIn(1, 65536),
    )
    .option(
      "--route-prefix <N>",
      "a bundle's routing rules decide on the first N tokens (default: half the sequence)",
      integerIn(1, 65536),
    )
    .addOption(
      new Option("--split <NAME>", "split of the shards to evaluate on").choices(SPLITS).default(
        "val",
      ),
    )
    .option("--teacher <RUN>", "also evaluate this teacher run, checkpoint or Hugging Face folder")
    .option("--rows <N>", "sequences per class", integerIn(1, 1e7), 64)
    .option("--batch <N>", "sequences (windows of --text) per graph run", integerIn(1, 4096), 8)
    .option(
      "--seq-len <N>",
      "tokens per sequence (default: the smallest context)",
      integerIn(1, 65536),
    )
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .addOption(
      new Option(
        "--mix <MODE>",
        "route: the rows above; router: also soft routing (experts weighted by the router)",
      ).choices(MIX_MODES).default("route"),
    )
    .option(
      "--average <A,B,…>",
      "a bundle's experts averaged uniformly (classes, common, all), e.g. en,py or all,common; repeatable",
      collect,
      [],
    )
    .addHelpText(
      "after",
      `
--data: each sequence of a bundle is routed on its own decoded text (never once per batch).
Rows: teacher, each expert alone, common expert, routed (hard routing; unknown → fallback),
routed+common (MoE-CE's average with the common expert), oracle and oracle+common (each sequence
to its own class). --mix router adds "soft" (or "soft+common" for MoE-CE): every expert weighted
by the router's probabilities for the sequence, what moe generate --mix router runs. --average
en,py adds "avg(en+py)": those experts with equal weights for every sequence, whatever the router
says (the paper's evaluation; hidden states averaged when the experts share their embedding, as
JEET and MoE-CE do, next-token distributions otherwise, as for PLE). One model
(a run, a step-N directory or a Hugging Face folder) gives the row "model" (and "teacher").

--text: the file's tokens (no BOS added) in consecutive non-overlapping windows of the model's
context length, the last one shorter; every token after the first of its window is predicted;
loss = mean cross-entropy per predicted token (nats), perplexity = e^loss, as transformers users
score a GPT-2. A bundle scores each window with what moe generate runs for that text: the
router's expert for the window's decoded text (unknown → the bundle's fallback), with the
common expert for MoE-CE; --json "routes" counts the windows of each.

Routing regret (bundles): per sequence, the routed choice's loss minus the lowest loss of any
choice it had (each expert, or each expert+common for routed+common): oracle-best, not the
label; "regret / best" rows give its mean (nats/token) and the share of sequences routed to
their best choice. Routing rules: each sequence is cut into a prompt (--route-prefix tokens)
and its continuation; router (the n-gram router on the prompt), likelihood (the expert that
predicts the prompt best) and combined (the router as the prior, against each expert's
per-token log-likelihood) decide from the prompt, and
are scored on the continuation against oracle-label and oracle-best, with the decision's cost
measured here in ms per prompt (generation also runs one prefill per expert for likelihood and
combined). For MoE-CE every candidate is the expert with the common expert.

--jsonl: the documents' tokens (each followed by end-of-text, as in token shards) in windows
of the context (or --window tokens), every window scored by every expert: the bundle's rows
and the routing rules; --label CLASS adds the oracle rows and label accuracy and macro-F1.

Examples:
  moe eval moe-ce --data data/tokens
  moe eval moe-ple --data data/tokens --split test --teacher runs/teacher --rows 256 --json
  moe eval .demo/moe --data .demo/tokens --mix router --backend cpu
  moe eval moe-ple --data data/tokens --average en,py --average en,py,common --average all
  moe eval runs/teacher --data data/tokens --split test
  moe eval hf/gpt2 --text notes.txt --json
  moe eval moe-ce --text notes.txt
  moe eval .demo/moe --jsonl fixtures/ood/en-manpages.jsonl.gz --label en
  moe eval moe-ce --jsonl fixtures/ood/py-numpy.jsonl.gz --label py --route-prefix 16 --json`,
    )
    .action(action(async (dir: string, flags: EvalFlags) => {
      const inputs = [flags.data, flags.text, flags.jsonl].filter((i) => i !== undefined);
      if (inputs.length !== 1) {
        throw new UsageError(
          "Invalid moe eval: give exactly one of --data (per-class table) and --text (one file), or --jsonl (documents)",
        );
      }
      const bundle = await isBundleDir(dir);
      checkEvalFlags(dir, bundle, flags);
      if (flags.text !== undefined) return await evaluateText(dir, bundle, flags.text, flags);
      if (flags.jsonl !== undefined) return await evaluateJsonl(dir, flags.jsonl, flags);
      await evaluateShards(dir, bundle, flags.data!, flags);
    }));
}

/** The flags that need a bundle (`--mix router`, `--average`) or `--data` shards. */
function checkEvalFlags(dir: string, bundle: boolean, flags: EvalFlags): void {
  if (!bundle && flags.mix === "router") {
    throw new UsageError(`Invalid --mix router for "${dir}": soft routing needs a MoE bundle`);
  }
  if (flags.average.length > 0 && (!bundle || flags.text !== undefined)) {
    throw new UsageError(
      `Invalid --average for "${dir}"${
        flags.text !== undefined ? " with --text" : ""
      }: it averages a bundle's experts on --data shards`,
    );
  }
  if (flags.text !== undefined && (flags.teacher !== undefined || flags.mix === "router")) {
    const flag = flags.teacher !== undefined ? "--teacher" : "--mix router";
    throw new UsageError(`Invalid ${flag} with --text: it applies to --data shards`);
  }
  checkJsonlFlags(dir, bundle, flags);
}

/** The flags of `--jsonl` (a bundle; `--label`, `--window`) and `--route-prefix` (a bundle). */
function checkJsonlFlags(dir: string, bundle: boolean, flags: EvalFlags): void {
  const jsonl = flags.jsonl !== undefined;
  if (jsonl && !bundle) {
    throw new UsageError(`Invalid --jsonl for "${dir}": it evaluates a MoE bundle`);
  }
  const only = flags.label !== undefined
    ? "--label"
    : flags.window !== undefined
    ? "--window"
    : null;
  if (only !== null && !jsonl) throw new UsageError(`Invalid ${only}: it applies to --jsonl`);
  const other = flags.teacher !== undefined
    ? "--teacher"
    : flags.mix === "router"
    ? "--mix router"
    : flags.seqLen !== undefined
    ? "--seq-len (--window cuts documents)"
    : flags.average.length > 0
    ? "--average"
    : null;
  if (jsonl && other !== null) {
    throw new UsageError(`Invalid ${other} with --jsonl: it applies to --data shards`);
  }
  if (flags.routePrefix !== undefined && (!bundle || flags.text !== undefined)) {
    throw new UsageError(
      `Invalid --route-prefix for "${dir}": it applies to a bundle's --data or --jsonl`,
    );
  }
}

/** `--jsonl`: the bundle's rows and routing rules on the file's documents. */
async function evaluateJsonl(dir: string, path: string, flags: EvalFlags): Promise<void> {
  const loaded = await loadBundle(dir);
  const options = {
    path,
    ...(flags.label !== undefined ? { label: flags.label } : {}),
    ...(flags.window !== undefined ? { window: flags.window } : {}),
    ...(flags.routePrefix !== undefined ? { routePrefix: flags.routePrefix } : {}),
  };
  const classes = loaded.manifest.classes;
  if (flags.label !== undefined && !classes.includes(flags.label)) {
    throw new UsageError(
      `Invalid --label "${flags.label}": the bundle's classes are ${classes.join(", ")}`,
    );
  }
  const window = usage(
    "--window",
    () => documentsWindow(loaded, flags.window !== undefined ? { window: flags.window } : {}),
  );
  usage("--route-prefix", () => checkRoutePrefix(flags.routePrefix ?? 1, window));
  const { backend } = await openCommandBackend(flags);
  const report: DocumentsEvalReport = await evaluateDocuments(loaded, {
    ...options,
    batch: flags.batch,
    backend,
    progress: createProgress({ quiet: flags.json ?? false }),
  });
  if (flags.json) return printJson({ bundle: dir, backend: backend.description, ...report });
  console.log(
    `${dir} on ${path} (${report.documents} documents, ${report.windows} windows of ${report.seqLen} tokens${
      report.label === null ? "" : `, class ${report.label}`
    }), loss / perplexity:`,
  );
  console.log(formatEvalTable({ ...report, classes: [report.set] }));
  console.log(`\n${formatRoutingRules(report.routingRules)}`);
}

/** `--text`: the file's loss and perplexity under the model or bundle. */
async function evaluateText(
  dir: string,
  bundle: boolean,
  path: string,
  flags: EvalFlags,
): Promise<void> {
  const text = await Deno.readTextFile(path);
  const { backend } = await openCommandBackend(flags);
  const options = { batch: flags.batch, backend };
  let score: TextScore;
  if (bundle) score = await scoreTextWithBundle(await loadBundle(dir), text, options);
  else {
    const model = await readGPTCheckpoint(dir);
    const tokenizer = await loadTokenizer(join(model.dir, "tokenizer.json"));
    score = await scoreText(
      { config: model.config.model, values: model.values },
      tokenizer,
      text,
      options,
    );
  }
  printTextScore(dir, flags, score, backend.description);
}

/** `--data`: the per-class table of the bundle's rows, or of the one model. */
async function evaluateShards(
  dir: string,
  bundle: boolean,
  data: string,
  flags: EvalFlags,
): Promise<void> {
  const { backend } = await openCommandBackend(flags);
  const options = {
    data,
    split: flags.split,
    rows: flags.rows,
    batch: flags.batch,
    ...(flags.seqLen !== undefined ? { seqLen: flags.seqLen } : {}),
    ...(flags.teacher !== undefined ? { teacher: flags.teacher } : {}),
    backend,
    mix: flags.mix,
    ...(flags.routePrefix !== undefined ? { routePrefix: flags.routePrefix } : {}),
    progress: createProgress({ quiet: flags.json ?? false }),
  };
  const report: EvalReport = bundle
    ? await evaluateBundleWithAverages(dir, flags.average, options)
    : await evaluateModel(await readGPTCheckpoint(dir), options);
  if (flags.json) {
    const what = bundle ? { bundle: dir } : { model: dir };
    return printJson({ ...what, backend: backend.description, ...report });
  }
  console.log(
    `${dir} on ${data} (${flags.split}, ${report.seqLen} tokens per sequence), loss / perplexity:`,
  );
  console.log(formatEvalTable(report));
  if (report.routingRules) console.log(`\n${formatRoutingRules(report.routingRules)}`);
}

/** Runs `check`, its RangeError a usage error of `flag`. */
function usage<T>(flag: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(`Invalid ${flag}: ${error.message}`);
  }
}

/** Evaluates a bundle, with the uniform averages `--average` asks for (checked on its experts). */
async function evaluateBundleWithAverages(
  dir: string,
  texts: string[],
  options: Parameters<typeof evaluateBundle>[1],
): Promise<EvalReport> {
  const loaded = await loadBundle(dir);
  if (options.routePrefix !== undefined) {
    const models = [...loaded.experts.values(), ...(loaded.common ? [loaded.common] : [])];
    const seqLen = Math.min(
      options.seqLen ?? Infinity,
      ...models.map((m) => m.config.contextLength),
    );
    usage("--route-prefix", () => checkRoutePrefix(options.routePrefix!, seqLen));
  }
  const average = texts.map((t) => {
    try {
      return parseAverage(t, loaded.manifest.classes, loaded.common !== null);
    } catch (error) {
      throw new UsageError(`Invalid --average: ${(error as Error).message}`);
    }
  });
  return await evaluateBundle(loaded, { ...options, average });
}

/** Whether `dir` is a bundle: its `manifest.json` says so (or is broken: loading names it). */
async function isBundleDir(dir: string): Promise<boolean> {
  const text = await Deno.readTextFile(join(dir, "manifest.json")).catch(() => null);
  if (text === null) return false;
  try {
    return (JSON.parse(text) as { format?: unknown } | null)?.format === BUNDLE_FORMAT;
  } catch {
    return true;
  }
}

function printTextScore(dir: string, flags: EvalFlags, s: TextScore, backend: string): void {
  if (flags.json) return printJson({ ...s, model: dir, text: flags.text, backend });
  const routes = s.routes
    ? `; windows by route: ${Object.entries(s.routes).map(([k, n]) => `${k} ${n}`).join(", ")}`
    : "";
  console.log(
    `${dir} on ${flags.text}: loss ${s.loss.toFixed(4)} nats/token, perplexity ${
      s.perplexity.toFixed(2)
    } (${s.predicted} of ${s.tokens} tokens predicted, ${s.windows} windows of ${s.context}${routes})`,
  );
}
