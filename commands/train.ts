/**
 * `moe train`: train the GPT-2 teacher on token shards, with checkpoints, exact resume and
 * mixed, balanced or sequential schedules.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { createProgress, UsageError } from "../core/cli/mod.ts";
import { ADAMW_DEFAULTS } from "../core/optim/mod.ts";
import { BACKEND_HELP, openBackend, runtimeConfig, THREADS_HELP } from "../core/runtime/mod.ts";
import { openTokens } from "../core/tokenizer/mod.ts";
import {
  DECAYS,
  findCheckpoint,
  findTokenizer,
  type LrSchedule,
  resolveModel,
  type Schedule,
  SCHEDULES,
  train,
  type TrainOptions,
  type TrainSummary,
} from "../core/training/mod.ts";
import { GPT_CONFIGS } from "../models/gpt.ts";
import { action, type GlobalOptions, numberIn, printJson, standardCommand } from "./_run.ts";

interface TrainFlags extends GlobalOptions {
  data?: string;
  out: string;
  config: string;
  layers?: number;
  dModel?: number;
  heads?: number;
  ctx?: number;
  vocabSize?: number;
  batch: number;
  accumulate: number;
  seqLen?: number;
  steps: number;
  lr: number;
  minLr?: number;
  warmup?: number;
  decay: LrSchedule["decay"];
  weightDecay: number;
  clip: number;
  schedule: Schedule;
  order?: string;
  evalEvery: number;
  evalRows: number;
  checkpointEvery: number;
  keep: number;
  seed: number;
  tokenizer?: string;
  backend?: string;
  threads?: string;
  resume?: boolean;
  force?: boolean;
}

const int = (min: number, max: number) => numberIn(min, max, true);

/** The `train` command. */
export function trainCommand(): Command {
  return standardCommand("train", "Train a GPT-2 teacher on token shards (moe tokenizer encode)")
    .option("--data <DIR>", "token shard directory (required unless --resume)")
    .requiredOption("-o, --out <DIR>", "run directory: metrics.jsonl, latest, step-N/ checkpoints")
    .option(
      "--config <NAME|FILE>",
      `model: ${Object.keys(GPT_CONFIGS).join(", ")} or a JSON file`,
      "gpt2-small",
    )
    .option("--layers <N>", "transformer blocks (overrides --config)", int(1, 256))
    .option("--d-model <N>", "residual width (overrides --config)", int(1, 65536))
    .option("--heads <N>", "attention heads (overrides --config)", int(1, 1024))
    .option("--ctx <N>", "context length (overrides --config)", int(2, 65536))
    .option(
      "--vocab-size <N>",
      "vocab size (default: the shards'; must match them)",
      int(2, 2 ** 24),
    )
    .option("--batch <N>", "rows per micro-batch", int(1, 65536), 16)
    .option("--accumulate <N>", "micro-batches per optimizer step", int(1, 65536), 1)
    .option("--seq-len <N>", "tokens per row (default: the context length)", int(1, 65536))
    .option("--steps <N>", "optimizer steps", int(1, 1e9), 1000)
    .option("--lr <X>", "peak learning rate", numberIn(0, 10), 6e-4)
    .option("--min-lr <X>", "final learning rate (default: lr / 10)", numberIn(0, 10))
    .option("--warmup <N>", "linear warm-up steps (default: 5 % of --steps)", int(0, 1e9))
    .addOption(
      new Option("--decay <KIND>", "decay after warm-up").choices(DECAYS).default("cosine"),
    )
    .option(
      "--weight-decay <X>",
      "AdamW decoupled weight decay",
      numberIn(0, 10),
      ADAMW_DEFAULTS.weightDecay,
    )
    .option(
      "--clip <X>",
      "global gradient-norm clip (0: off)",
      numberIn(0, 1e9),
      ADAMW_DEFAULTS.clipNorm,
    )
    .addOption(
      new Option(
        "--schedule <KIND>",
        "mixed: random rows; balanced: equal share of every class per batch; sequential: one class after another",
      )
        .choices(SCHEDULES).default("mixed"),
    )
    .option(
      "--order <A,B,…>",
      "class order for sequential phases and balanced cycles (default: the shards')",
    )
    .option(
      "--eval-every <N>",
      "evaluate every N steps (0: phase ends and the end only)",
      int(0, 1e9),
      100,
    )
    .option("--eval-rows <N>", "validation rows per class per evaluation", int(1, 1e9), 64)
    .option(
      "--checkpoint-every <N>",
      "checkpoint every N steps (0: at the end only)",
      int(0, 1e9),
      200,
    )
    .option("--keep <N>", "checkpoints kept on disk", int(1, 1000), 1)
    .option("--seed <N>", "seed of initialization and data order", int(0, 2 ** 32 - 1), 1)
    .option("--tokenizer <FILE>", "tokenizer.json of the shards (default: the manifest's)")
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .option("--resume", "continue the run in --out from its latest checkpoint (same loss curve)")
    .option("--force", "start afresh even if --out already holds a run")
    .addHelpText(
      "after",
      `
Examples:
  moe train --data data/tokens --config tiny --steps 500 --out runs/tiny
  moe train --data data/tokens --config gpt2-medium --batch 8 --accumulate 8 --out runs/teacher
  moe train --data data/tokens --config tiny --schedule sequential --order en,fr,de,py --out runs/seq
  moe train --out runs/teacher --resume`,
    )
    .action(action(async (flags: TrainFlags) => {
      const runtime = runtimeConfig(flags);
      const options = flags.resume ? await resumedOptions(flags) : await freshOptions(flags);
      const tokenizerPath = await findTokenizer(
        options.data,
        await openTokens(options.data),
        flags.tokenizer,
      );
      const { backend } = await openBackend(runtime.backend, { threads: runtime.threads });
      const stop = { requested: false };
      const onSigint = () => {
        if (stop.requested) Deno.exit(130); // a second Ctrl-C does not wait for the checkpoint
        stop.requested = true;
      };
      Deno.addSignalListener("SIGINT", onSigint);
      let summary: TrainSummary;
      try {
        summary = await train(options, {
          backend,
          out: flags.out,
          tokenizerPath,
          resume: flags.resume ?? false,
          progress: createProgress({ quiet: flags.json ?? false, unit: "tok" }),
          stop,
        });
      } finally {
        Deno.removeSignalListener("SIGINT", onSigint);
      }
      report(summary, backend.description, flags.json ?? false);
    }));
}

async function resumedOptions(flags: TrainFlags): Promise<TrainOptions> {
  const { config } = await findCheckpoint(flags.out);
  return (config.trainer as unknown as { options: TrainOptions }).options;
}

async function freshOptions(flags: TrainFlags): Promise<TrainOptions> {
  if (flags.data === undefined) {
    throw new UsageError("Missing --data: the token shard directory to train on");
  }
  if (!flags.force && await Deno.stat(`${flags.out}/latest`).then(() => true, () => false)) {
    throw new UsageError(
      `Cannot start a run in "${flags.out}": it already holds one (use --resume to continue it or --force to start afresh)`,
    );
  }
  const manifest = await openTokens(flags.data);
  const { name, model } = await resolveModel(flags.config, {
    layers: flags.layers,
    dModel: flags.dModel,
    heads: flags.heads,
    contextLength: flags.ctx,
    vocabSize: flags.vocabSize,
  }, manifest.tokenizer.vocabSize);
  const seqLen = flags.seqLen ?? model.contextLength;
  if (seqLen > model.contextLength) {
    throw new UsageError(
      `Invalid --seq-len ${seqLen}: it exceeds the context length ${model.contextLength}`,
    );
  }
  const order = flags.order?.split(",").map((s) => s.trim()) ?? manifest.classes;
  const unknown = order.filter((c) => !manifest.classes.includes(c));
  if (
    unknown.length > 0 || new Set(order).size !== order.length ||
    order.length !== manifest.classes.length
  ) {
    throw new UsageError(
      `Invalid --order "${flags.order}": expected each of ${
        manifest.classes.join(", ")
      } exactly once`,
    );
  }
  return {
    data: flags.data,
    modelName: name,
    model,
    batch: flags.batch,
    accumulate: flags.accumulate,
    seqLen,
    lr: {
      lr: flags.lr,
      minLr: flags.minLr ?? flags.lr / 10,
      warmup: flags.warmup ?? Math.round(flags.steps * 0.05),
      steps: flags.steps,
      decay: flags.decay,
    },
    adamw: { ...ADAMW_DEFAULTS, weightDecay: flags.weightDecay, clipNorm: flags.clip },
    schedule: flags.schedule,
    order,
    evalEvery: flags.evalEvery,
    evalRows: flags.evalRows,
    checkpointEvery: flags.checkpointEvery,
    keep: flags.keep,
    seed: flags.seed,
  };
}

function report(s: TrainSummary, backend: string, json: boolean): void {
  if (json) return printJson({ ...s, backend });
  console.log(
    `trained ${s.steps} steps (${s.tokens} tokens; ${s.steps - s.startStep} steps in ` +
      `${s.seconds.toFixed(1)} s here), ` +
      `${Math.round(s.tokensPerSecond)} tokens/s on ${backend}; final train loss ${
        s.finalLoss.toFixed(3)
      }`,
  );
  for (const [cls, v] of Object.entries(s.val)) {
    console.log(`  val ${cls}: loss ${v.loss.toFixed(3)}, perplexity ${v.ppl.toFixed(2)}`);
  }
  console.log(`checkpoint ${s.checkpoint}`);
}
