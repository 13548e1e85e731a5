/**
 * Evaluating one GPT — a run, a checkpoint or a Hugging Face folder — on token shards, with the
 * per-class rows of a bundle's evaluation (`evaluate.ts`): `moe eval MODEL --data TOKENS`.
 *
 * @module
 */
import { join } from "node:path";
import { silentProgress } from "../../core/job/mod.ts";
import { openTokens } from "../../core/tokenizer/mod.ts";
import type { GPTCheckpoint } from "../training/mod.ts";
import { buildTokenLoss } from "../../models/moe.ts";
import { readExpertCheckpoint } from "./assemble.ts";
import { classRow, type EvalOptions, type EvalReport, type EvalRow } from "./eval_report.ts";
import { readClasses, tokenLosses } from "./token_losses.ts";

/**
 * Evaluates one GPT — a run, a checkpoint or a Hugging Face folder, as `readGPTCheckpoint` reads
 * it — on token shards: the same per-class table as `evaluateBundle`, with the row
 * `model` (and `teacher` first when `options.teacher` is given) and no routing.
 *
 * @param model The model and its config.
 * @param options Shards, split, rows, batch, backend (`mix` is ignored: one model has no router).
 * @returns The report (its `routing` is empty).
 * @throws {Error} If the shards or the teacher use another tokenizer than the model, or a class's
 *   shard is missing or too short; the message names the file.
 */
export async function evaluateModel(
  model: GPTCheckpoint,
  options: EvalOptions,
): Promise<EvalReport> {
  const shardManifest = await openTokens(options.data);
  if (shardManifest.tokenizer.fingerprint !== model.config.tokenizer.fingerprint) {
    throw new Error(
      `Cannot evaluate on "${
        join(options.data, "manifest.json")
      }": its shards were encoded with another tokenizer than the model "${model.dir}"'s`,
    );
  }
  const teacher = options.teacher !== undefined
    ? await readExpertCheckpoint(options.teacher)
    : null;
  if (teacher && teacher.tokenizer.fingerprint !== model.config.tokenizer.fingerprint) {
    throw new Error(
      `Cannot evaluate teacher "${teacher.source}": it uses another tokenizer than the model`,
    );
  }
  const models = [
    ...(teacher ? [{ name: "teacher", config: teacher.config, values: teacher.values }] : []),
    { name: "model", config: model.config.model, values: model.values },
  ];
  const seqLen = Math.min(options.seqLen ?? Infinity, ...models.map((m) => m.config.contextLength));
  const classes = shardManifest.classes;
  const data = await readClasses(options, classes, seqLen);
  const progress = options.progress ?? silentProgress;
  progress.start(models.length * classes.length, "eval");
  const rows: EvalRow[] = [];
  for (const [i, m] of models.entries()) {
    const geometry = { batch: options.batch, seqLen };
    const losses = await tokenLosses(
      options.backend,
      buildTokenLoss(m.config, [m.values], geometry),
      data,
      geometry,
    );
    progress.update((i + 1) * classes.length);
    rows.push(classRow(m.name, data, seqLen, (cls) => losses.get(cls)!));
  }
  progress.stop();
  const sequences = Object.fromEntries([...data].map(([c, d]) => [c, d.rows]));
  return { classes, split: options.split, seqLen, sequences, rows, routing: {} };
}
