/**
 * `moe eval`: per-class loss and perplexity of a bundle's experts, routed MoE, common expert,
 * oracle routing (and a teacher, and soft routing), on token shards.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { createProgress } from "../core/cli/mod.ts";
import { SPLITS } from "../core/data/mod.ts";
import {
  evaluateBundle,
  formatEvalTable,
  loadBundle,
  MIX_MODES,
  type MixMode,
} from "../core/moe/mod.ts";
import { BACKEND_HELP, openBackend, runtimeConfig, THREADS_HELP } from "../core/runtime/mod.ts";
import { action, type GlobalOptions, numberIn, printJson, standardCommand } from "./_run.ts";

interface EvalFlags extends GlobalOptions {
  data: string;
  split: string;
  teacher?: string;
  rows: number;
  batch: number;
  seqLen?: number;
  backend?: string;
  threads?: string;
  mix: MixMode;
}

const int = (min: number, max: number) => numberIn(min, max, true);

/** The `eval` command. */
export function evalCommand(): Command {
  return standardCommand("eval", "Evaluate a MoE bundle per class: experts, routed, common, oracle")
    .argument("<BUNDLE>", "bundle directory (moe assemble)")
    .requiredOption("--data <DIR>", "token shard directory (moe tokenizer encode)")
    .addOption(
      new Option("--split <NAME>", "split of the shards to evaluate on").choices(SPLITS).default(
        "val",
      ),
    )
    .option("--teacher <RUN>", "also evaluate this teacher run or checkpoint")
    .option("--rows <N>", "sequences per class", int(1, 1e7), 64)
    .option("--batch <N>", "sequences per graph run", int(1, 4096), 8)
    .option("--seq-len <N>", "tokens per sequence (default: the smallest context)", int(1, 65536))
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .addOption(
      new Option(
        "--mix <MODE>",
        "route: the rows above; router: also soft routing (experts weighted by the router)",
      ).choices(MIX_MODES).default("route"),
    )
    .addHelpText(
      "after",
      `
Each sequence is routed on its own decoded text (never once per batch). Rows: teacher, each
expert alone, common expert, routed (hard routing; unknown → fallback), routed+common (MoE-CE's
average with the common expert), oracle and oracle+common (each sequence to its own class).
--mix router adds "soft" (or "soft+common" for MoE-CE): every expert weighted by the router's
probabilities for the sequence, what moe generate --mix router runs.

Examples:
  moe eval moe-ce --data data/tokens
  moe eval moe-ple --data data/tokens --split test --teacher runs/teacher --rows 256 --json
  moe eval .demo/moe --data .demo/tokens --mix router --backend cpu`,
    )
    .action(action(async (dir: string, flags: EvalFlags) => {
      const runtime = runtimeConfig(flags);
      const bundle = await loadBundle(dir);
      const { backend } = await openBackend(runtime.backend, { threads: runtime.threads });
      const report = await evaluateBundle(bundle, {
        data: flags.data,
        split: flags.split,
        rows: flags.rows,
        batch: flags.batch,
        ...(flags.seqLen !== undefined ? { seqLen: flags.seqLen } : {}),
        ...(flags.teacher !== undefined ? { teacher: flags.teacher } : {}),
        backend,
        mix: flags.mix,
        progress: createProgress({ quiet: flags.json ?? false }),
      });
      if (flags.json) return printJson({ bundle: dir, backend: backend.description, ...report });
      console.log(
        `${dir} on ${flags.data} (${flags.split}, ${report.seqLen} tokens per sequence), loss / perplexity:`,
      );
      console.log(formatEvalTable(report));
    }));
}
