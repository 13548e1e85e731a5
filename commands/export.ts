/**
 * `moe export`: write a trained checkpoint in another format — Hugging Face GPT-2 safetensors
 * (loadable by `transformers`' `GPT2LMHeadModel`) or the plain ONNX inference model.
 *
 * @module
 */
import { join } from "node:path";
import { type Command, Option } from "commander";
import { assertReplaceable, withAtomicDir } from "../core/cli/mod.ts";
import { hfGpt2Config, toHfGpt2 } from "../core/export/mod.ts";
import { loadSafetensors, saveSafetensors } from "../core/runtime/mod.ts";
import { findCheckpoint } from "../core/training/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";

interface ExportFlags extends GlobalOptions {
  checkpoint: string;
  format: "safetensors" | "onnx";
  out: string;
  force?: boolean;
}

/** The `export` command. */
export function exportCommand(): Command {
  return standardCommand("export", "Export a trained checkpoint (Hugging Face safetensors or ONNX)")
    .requiredOption(
      "--checkpoint <DIR>",
      "run directory (its latest checkpoint) or a step-N directory",
    )
    .addOption(
      new Option("--format <KIND>", "safetensors: Hugging Face GPT-2 layout; onnx: inference model")
        .choices(["safetensors", "onnx"]).default("safetensors"),
    )
    .requiredOption("-o, --out <DIR>", "directory to write (atomically)")
    .option("--force", "replace --out if it exists")
    .addHelpText(
      "after",
      `
Examples:
  moe export --checkpoint runs/teacher --out hf/teacher
  python3 -c "import transformers; transformers.GPT2LMHeadModel.from_pretrained('hf/teacher')"
  moe export --checkpoint runs/teacher/step-001000 --format onnx --out onnx/teacher`,
    )
    .action(action(async (flags: ExportFlags) => {
      const inputs = [flags.checkpoint];
      if (flags.force) await assertReplaceable(flags.out, { kind: "dir", inputs });
      const { dir, config } = await findCheckpoint(flags.checkpoint);
      const files = await withAtomicDir(flags.out, async (tmp) => {
        await Deno.copyFile(join(dir, "tokenizer.json"), join(tmp, "tokenizer.json"));
        if (flags.format === "onnx") {
          await Deno.copyFile(join(dir, "model.onnx"), join(tmp, "model.onnx"));
          await Deno.copyFile(join(dir, "config.json"), join(tmp, "config.json"));
          return ["model.onnx", "config.json", "tokenizer.json"];
        }
        const { tensors } = await loadSafetensors(join(dir, "state.safetensors"));
        await saveSafetensors(join(tmp, "model.safetensors"), toHfGpt2(config.model, tensors), {
          format: "pt",
        });
        const hf = hfGpt2Config(config.model, config.tokenizer.eotId);
        await Deno.writeTextFile(join(tmp, "config.json"), JSON.stringify(hf, null, 2) + "\n");
        return ["model.safetensors", "config.json", "tokenizer.json"];
      }, { replace: flags.force ?? false, inputs: [...inputs, dir], command: "export" });
      const summary = {
        checkpoint: dir,
        step: config.trainer.step,
        format: flags.format,
        out: flags.out,
        files,
      };
      if (flags.json) return printJson(summary);
      console.log(
        `exported ${dir} (step ${summary.step}) as ${flags.format} to ${flags.out}: ${
          files.join(", ")
        }`,
      );
    }));
}
