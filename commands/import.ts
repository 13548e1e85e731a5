/**
 * `moe import hf DIR --out RUN`: a Hugging Face GPT-2 folder (`save_pretrained`, or `moe export`)
 * written as a `moe` run, for users who want the converted copy. Every command that reads a model
 * also reads the folder directly, with the same numbers.
 *
 * @module
 */
import { Command } from "commander";
import { assertReplaceable, withAtomicDir } from "../core/files/mod.ts";
import { importHfGpt2 } from "../pipeline/training/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";

interface ImportFlags extends GlobalOptions {
  out: string;
  force?: boolean;
}

/** The `import` command group. */
export function importCommand(): Command {
  return new Command("import")
    .description("Bring a model from another ecosystem in as a moe run")
    .addCommand(hfCommand())
    .addHelpText(
      "after",
      `
Examples:
  moe import hf hf/gpt2 --out runs/gpt2`,
    );
}

function hfCommand(): Command {
  return standardCommand("hf", "Convert a Hugging Face GPT-2 folder into a moe run")
    .argument(
      "<DIR>",
      "config.json (model_type gpt2), model.safetensors or sharded safetensors, tokenizer.json",
    )
    .requiredOption("-o, --out <RUN>", "run directory to write (atomically)")
    .option("--force", "replace --out if it is an output moe wrote")
    .addHelpText(
      "after",
      `
The run holds latest → step-000000 with config.json (format moe-gpt), state.safetensors (the
parameters in float32: F16 and BF16 weights are widened), tokenizer.json and model.onnx, as a
moe train checkpoint does. The folder needs no import to be used: moe generate, moe eval,
moe export and --teacher read it directly and give the same numbers.

Examples:
  moe import hf hf/gpt2 --out runs/gpt2
  moe import hf hf/gpt2 --out runs/gpt2 --force --json
  moe distill --teacher runs/gpt2 --data data/tokens --lang en --out experts/en`,
    )
    .action(action(async (dir: string, flags: ImportFlags) => {
      const inputs = [dir];
      if (flags.force) await assertReplaceable(flags.out, { kind: "dir", inputs });
      const run = await withAtomicDir(flags.out, (tmp) => importHfGpt2(dir, tmp), {
        replace: flags.force ?? false,
        inputs,
        command: "import hf",
      });
      const model = run.config.model;
      const summary = {
        source: dir,
        out: flags.out,
        checkpoint: run.checkpoint.replace(/^.*[\\/]/, ""),
        model,
        parameters: run.parameters,
      };
      if (flags.json) return printJson(summary);
      console.log(
        `imported ${dir} (${model.layers} layers, d ${model.dModel}, ${model.heads} heads, ` +
          `context ${model.contextLength}, vocab ${model.vocabSize}; ${run.parameters} parameters) ` +
          `as ${flags.out}`,
      );
    }));
}
