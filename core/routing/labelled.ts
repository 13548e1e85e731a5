/**
 * Reading labelled text for the router: a balanced dataset split, `CLASS=PATH` inputs, or a JSON
 * Lines file of `{"text", "label"}` records.
 *
 * @module
 */
import { openDataset, readDocuments, readLines } from "../data/mod.ts";

/** Texts per class, in class order. */
export type LabelledTexts = Map<string, string[]>;

/**
 * One split of a balanced dataset (`moe balance` output).
 *
 * @param dir Dataset directory.
 * @param split Split name (train, val, test).
 * @returns Texts per class (the dataset's class order), or `null` if the split does not exist.
 * @throws {Error} If the dataset cannot be opened.
 */
export async function readDatasetSplit(dir: string, split: string): Promise<LabelledTexts | null> {
  const data = await openDataset(dir);
  if (!data.splits.includes(split)) return null;
  const out: LabelledTexts = new Map();
  for (const cls of data.classes) {
    const texts: string[] = [];
    for await (const doc of readDocuments(data.file(split, cls))) texts.push(doc.text);
    out.set(cls, texts);
  }
  return out;
}

/**
 * The documents of `CLASS → paths` inputs (any format `readDocuments` reads).
 *
 * @param inputs Paths per class.
 * @returns Texts per class.
 */
export async function readInputs(
  inputs: ReadonlyMap<string, readonly string[]>,
): Promise<LabelledTexts> {
  const out: LabelledTexts = new Map();
  for (const [cls, paths] of inputs) {
    const texts: string[] = [];
    for (const path of paths) for await (const doc of readDocuments(path)) texts.push(doc.text);
    out.set(cls, texts);
  }
  return out;
}

/**
 * A JSON Lines file (plain or gzip) of `{"text": string, "label": string}` records.
 *
 * @param path The file.
 * @returns Texts per label, labels in order of first appearance.
 * @throws {SyntaxError} Naming `file:line` for a malformed record.
 *
 * @example
 * ```ts
 * import { readLabelledJsonl } from "./labelled.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"text":"hi","label":"en"}\n{"text":"salut","label":"fr"}\n');
 * const data = await readLabelledJsonl(path);
 * console.assert(data.get("fr")?.[0] === "salut");
 * ```
 */
export async function readLabelledJsonl(path: string): Promise<LabelledTexts> {
  const out: LabelledTexts = new Map();
  const decoder = new TextDecoder();
  for await (const line of readLines(path)) {
    const text = decoder.decode(line.bytes);
    if (text.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(
        `Cannot read "${path}:${line.number}": malformed JSON (${(error as Error).message})`,
      );
    }
    const r = record as Record<string, unknown>;
    if (typeof r?.text !== "string" || typeof r.label !== "string") {
      throw new SyntaxError(
        `Cannot read "${path}:${line.number}": expected {"text": string, "label": string}`,
      );
    }
    const texts = out.get(r.label) ?? [];
    texts.push(r.text);
    out.set(r.label, texts);
  }
  return out;
}
