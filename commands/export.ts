/**
 * `moe export`: write a trained model in another format — Hugging Face GPT-2 folders (loadable by
 * `transformers`' `GPT2LMHeadModel`) or the plain ONNX inference model. A JEET / MoE-CE run or a
 * bundle exports one folder per expert, with the router and `moe-bundle.json`
 * (`pipeline/hf/moe_hf.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import { assertReplaceable, withAtomicDir } from "../core/files/mod.ts";
import {
  type MoEExportSource,
  readMoEExportSource,
  withRouter,
  writeHfGpt2Folder,
  writeMoEHfExport,
} from "../pipeline/hf/mod.ts";
import { readGPTCheckpoint } from "../pipeline/training/mod.ts";
import { buildGPTInference } from "../models/gpt.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";

interface ExportFlags extends GlobalOptions {
  checkpoint: string;
  format: "safetensors" | "onnx";
  out: string;
  router?: string;
  force?: boolean;
}

/** What was exported, for the summary line and `--json`. */
interface ExportSummary {
  checkpoint: string;
  kind: "gpt" | "moe";
  /** The run's step (null for a bundle). */
  step: number | null;
  format: ExportFlags["format"];
  out: string;
  files: string[];
}

/** The `export` command. */
export function exportCommand(): Command {
  return standardCommand(
    "export",
    "Export a trained model, or every expert of a MoE run or bundle (Hugging Face safetensors or ONNX)",
  )
    .requiredOption(
      "--checkpoint <DIR>",
      "run directory (its latest checkpoint), a step-N directory, a train-moe run, a bundle or a Hugging Face folder",
    )
    .addOption(
      new Option("--format <KIND>", "safetensors: Hugging Face GPT-2 layout; onnx: inference model")
        .choices(["safetensors", "onnx"]).default("safetensors"),
    )
    .requiredOption("-o, --out <DIR>", "directory to write (atomically)")
    .option(
      "--router <FILE>",
      "a train-moe run's router, copied as router.json (a bundle has its own)",
    )
    .option("--force", "replace --out if it exists")
    .addHelpText(
      "after",
      `
A train-moe run or a bundle writes one Hugging Face folder per expert (OUT/<class>/, and
OUT/common/ for MoE-CE), each a whole GPT-2 with the shared embedding and head folded in, plus
router.json and moe-bundle.json: which folder answers which class, the fallback, and how the
routed and common experts combine (MoE-CE: logits = ½·routed + ½·common).

Examples:
  moe export --checkpoint runs/teacher --out hf/teacher
  python3 -c "import transformers; transformers.GPT2LMHeadModel.from_pretrained('hf/teacher')"
  moe export --checkpoint runs/teacher/step-001000 --format onnx --out onnx/teacher
  moe export --checkpoint runs/moe-ce --router router.json --out hf/moe-ce
  moe export --checkpoint bundles/jeet --out hf/jeet`,
    )
    .action(action(async (flags: ExportFlags) => {
      const inputs = [flags.checkpoint, flags.router];
      if (flags.force) await assertReplaceable(flags.out, { kind: "dir", inputs });
      const moe = await readMoEExportSource(flags.checkpoint);
      const summary = moe
        ? await exportMoE(await routed(moe, flags.router), flags, inputs)
        : await exportGPT(flags, inputs);
      if (flags.json) return printJson(summary);
      const step = summary.step === null ? "" : ` (step ${summary.step})`;
      console.log(
        `exported ${summary.checkpoint}${step} as ${flags.format} to ${flags.out}: ${
          summary.files.join(", ")
        }`,
      );
    }));
}

/** One GPT (a `moe train` / `moe distill` run or checkpoint, or a Hugging Face folder). */
async function exportGPT(
  flags: ExportFlags,
  inputs: (string | undefined)[],
): Promise<ExportSummary> {
  if (flags.router !== undefined) {
    throw new UsageError(
      `Invalid --router: "${flags.checkpoint}" is a single model, not a train-moe run`,
    );
  }
  const { dir, config, values } = await readGPTCheckpoint(flags.checkpoint);
  const files = await withAtomicDir(flags.out, async (tmp) => {
    if (flags.format === "safetensors") {
      const tokenizerPath = join(dir, "tokenizer.json");
      return await writeHfGpt2Folder(tmp, {
        model: config.model,
        values,
        tokenizerPath,
        eotId: config.tokenizer.eotId,
      });
    }
    await Deno.copyFile(join(dir, "tokenizer.json"), join(tmp, "tokenizer.json"));
    const onnx = join(dir, "model.onnx");
    if (await Deno.stat(onnx).then(() => true, () => false)) {
      await Deno.copyFile(onnx, join(tmp, "model.onnx"));
      await Deno.copyFile(join(dir, "config.json"), join(tmp, "config.json"));
    } else {
      // A Hugging Face folder has no ONNX model: build the one a checkpoint of it would hold.
      const seqLen = config.model.contextLength;
      const model = buildGPTInference(config.model, { batch: 1, seqLen, values });
      await Deno.writeFile(join(tmp, "model.onnx"), model);
      await Deno.writeTextFile(join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
    }
    return ["model.onnx", "config.json", "tokenizer.json"];
  }, { replace: flags.force ?? false, inputs: [...inputs, dir], command: "export" });
  return {
    checkpoint: dir,
    kind: "gpt",
    step: config.trainer.step,
    format: flags.format,
    out: flags.out,
    files,
  };
}

/** A run's source with `--router`; a bundle has its own router, so `--router` is refused. */
async function routed(source: MoEExportSource, router?: string): Promise<MoEExportSource> {
  if (router === undefined) return source;
  if (source.kind === "bundle") {
    throw new UsageError(
      `Invalid --router "${router}": bundle "${source.source}" exports its own router`,
    );
  }
  return await withRouter(source, router);
}

/** Every expert of a MoE run or bundle, as Hugging Face folders. */
async function exportMoE(
  source: MoEExportSource,
  flags: ExportFlags,
  inputs: (string | undefined)[],
): Promise<ExportSummary> {
  if (flags.format === "onnx") {
    throw new UsageError(
      `Invalid --format onnx for "${flags.checkpoint}": a MoE exports its experts as safetensors ` +
        "(its ONNX models are the run's model.onnx and the bundle's experts/*/model.onnx)",
    );
  }
  const manifest = await withAtomicDir(
    flags.out,
    (tmp) => writeMoEHfExport(tmp, source),
    {
      replace: flags.force ?? false,
      inputs: [...inputs, source.source],
      command: "export",
    },
  );
  const folders = [
    ...Object.values(manifest.experts),
    ...(manifest.common ? [manifest.common] : []),
  ];
  return {
    checkpoint: source.source,
    kind: "moe",
    step: source.step,
    format: flags.format,
    out: flags.out,
    files: [
      ...folders.map((f) => `${f}/`),
      ...(manifest.router ? [manifest.router.file] : []),
      "moe-bundle.json",
    ],
  };
}
