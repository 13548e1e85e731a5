/**
 * `moe balance`: turns unbalanced corpora into a balanced, de-duplicated, group-split dataset.
 *
 * Two streaming passes over the inputs, so memory is a few numbers per document and never the
 * text: pass 1 reads every document, drops duplicates and short ones and records its sizes, its
 * group and a seeded priority; then each class is cut to the target ({@linkcode selectToTarget})
 * and its groups are assigned to splits ({@linkcode assignGroups}); pass 2 reads the inputs again
 * and writes the kept documents into `OUT/{split}/CLASS.jsonl.gz`.
 *
 * @module
 */
import { join } from "node:path";
import { InvalidRequest, type Progress, silentProgress } from "../job/mod.ts";
import { addSizes, type ClassScan, scanClass, sizeColumn, sizesOf } from "./_class_scan.ts";
import { KeySet64 } from "./columns.ts";
import { seededUnit } from "./content_hash.ts";
import { type DatasetFile, type DatasetManifest, MANIFEST_VERSION } from "./dataset.ts";
import { type Document, inputSize, readDocuments } from "./documents.ts";
import { JsonlGzWriter } from "./jsonl_writer.ts";
import { type MeasureName, type Sizes, utf8Length } from "./measure.ts";
import { NoDocumentFitsError, resolveTarget, selectToTarget, smallestSize } from "./select.ts";
import { assignGroups, SPLITS } from "./split.ts";

/** Everything `moe balance` needs; see the command's help for each field. */
export interface BalanceOptions {
  /** Input paths per class, in the order given. */
  inputs: Map<string, string[]>;
  by: MeasureName;
  target: "min" | number;
  /** Allowed excess of a class over the target, in percent. */
  maxDiffPercent: number;
  minChars: number;
  seed: number;
  /** Fractions for train, val, test. */
  split: number[];
  /** Token counter; required when `by` is `"tokens"`. */
  countTokens?: (text: string) => number;
  tokenizer?: { path: string; fingerprint: string };
  /** Recorded in the manifest. */
  command: string[];
  progress?: Progress;
}

/** The manifest plus warnings worth showing to the user. */
export interface BalanceResult {
  manifest: DatasetManifest;
  warnings: string[];
}

/**
 * Balances `options.inputs` into `outDir` (which must exist and be empty; the command wraps this
 * in an atomic directory).
 *
 * @param outDir Directory to write `{split}/CLASS.jsonl.gz` and `manifest.json` into.
 * @param options What to read and how to balance.
 * @returns The manifest written and any warnings.
 * @throws {Error} On unreadable inputs, malformed data or an empty class.
 * @throws {NoDocumentFitsError} If every document of a class exceeds the target and its excess.
 *
 * @example
 * ```ts
 * import { balance } from "./balance.ts";
 * const dir = await Deno.makeTempDir();
 * const src = `${dir}/a.txt`;
 * await Deno.writeTextFile(src, "one doc here\n\nanother doc\n\nthird one\n");
 * const out = `${dir}/out`;
 * await Deno.mkdir(out);
 * const { manifest } = await balance(out, {
 *   inputs: new Map([["x", [src]]]), by: "chars", target: "min", maxDiffPercent: 1, minChars: 0,
 *   seed: 1, split: [1, 0, 0], command: [],
 * });
 * console.assert(manifest.files["train/x.jsonl.gz"]?.docs === 3);
 * ```
 */
export async function balance(outDir: string, options: BalanceOptions): Promise<BalanceResult> {
  if (options.by === "tokens" && !options.countTokens) {
    throw new InvalidRequest(
      (s) => `Balancing by tokens needs a tokenizer (${s.option("tokenizer", "FILE")})`,
      { option: "tokenizer" },
    );
  }
  const progress = options.progress ?? silentProgress;
  const warnings: string[] = [];
  const totalBytes = await sumInputSizes(options.inputs);

  // Pass 1: measure every document once.
  const seen = new KeySet64();
  const scans = new Map<string, ClassScan>();
  let read = 0;
  progress.start(totalBytes, "balance: read");
  for (const [cls, paths] of options.inputs) {
    scans.set(cls, await scanClass(cls, paths, seen, options, (n) => progress.update(read += n)));
  }
  progress.stop();
  checkNoEmptyClass(scans);

  // Cut every class to the target, then split its groups.
  const available = [...scans.values()].map((s) => measureOf(s.stats.available, options.by));
  const target = resolveTarget(options.target, available);
  const plans = new Map<string, ClassPlan>();
  for (const [cls, scan] of scans) plans.set(cls, planClass(cls, scan, target, options, warnings));

  // Pass 2: write what was kept.
  const files: Record<string, DatasetFile> = {};
  read = 0;
  progress.start(totalBytes, "balance: write");
  for (const [cls, paths] of options.inputs) {
    const scan = scans.get(cls)!;
    const plan = plans.get(cls)!;
    const written = await writeClass(
      outDir,
      cls,
      paths,
      scan,
      plan,
      options,
      (n) => progress.update(read += n),
    );
    Object.assign(files, written);
    for (const file of Object.values(written)) addSizes(scan.stats.selected, file);
  }
  progress.stop();

  const manifest = manifestOf(options, target, scans, files);
  await Deno.writeTextFile(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return { manifest, warnings };
}

/**
 * Throws for a class without usable documents, before any target is computed: with `--target
 * min` it would make the target 0 for every other class.
 */
function checkNoEmptyClass(scans: ReadonlyMap<string, ClassScan>): void {
  for (const [cls, scan] of scans) {
    if (scan.priority.length === 0) {
      throw new Error(
        `Class "${cls}" is empty: no usable documents in ${
          scan.stats.inputs.map((p) => `"${p}"`).join(", ")
        }`,
      );
    }
  }
}

/** Which kept documents of a class are written, and the split of each of its groups. */
interface ClassPlan {
  selected: Uint8Array;
  groupSplit: Uint8Array;
}

/**
 * Cuts one class to the target (plus the allowed excess) and assigns its groups to splits; warns
 * when the class falls short of the target.
 *
 * @throws {NoDocumentFitsError} If no document of the class fits.
 */
function planClass(
  cls: string,
  scan: ClassScan,
  target: number,
  options: BalanceOptions,
  warnings: string[],
): ClassPlan {
  const cap = target * (1 + options.maxDiffPercent / 100);
  const sizes = sizeColumn(scan, options.by);
  const { selected, total } = selectToTarget(scan.priority.view(), sizes, target, cap);
  const has = measureOf(scan.stats.available, options.by);
  if (!selected.includes(1)) {
    // Never leave a class silently empty: it has text, only none of its documents is small
    // enough for the target and the allowed excess.
    throw new NoDocumentFitsError({
      cls,
      by: options.by,
      available: has,
      documents: sizes.length,
      smallest: smallestSize(sizes),
      target,
      maxDiffPercent: options.maxDiffPercent,
    });
  }
  if (total < target) {
    warnings.push(
      has < target
        ? `Class "${cls}" has only ${total} ${options.by}, below the target ${target}`
        : `Class "${cls}" has ${has} ${options.by} but only ${total} fit the target ${target} + ` +
          `${options.maxDiffPercent} %: its other documents are larger`,
    );
  }
  return { selected, groupSplit: splitGroups(cls, scan, selected, sizes, options, warnings) };
}

/** The manifest of a balanced dataset: the options, each class's statistics and every file. */
function manifestOf(
  options: BalanceOptions,
  target: number,
  scans: ReadonlyMap<string, ClassScan>,
  files: Record<string, DatasetFile>,
): DatasetManifest {
  return {
    format: "moe-balanced-dataset",
    version: MANIFEST_VERSION,
    command: options.command,
    seed: options.seed,
    options: {
      by: options.by,
      target: options.target,
      targetSize: target,
      maxDiffPercent: options.maxDiffPercent,
      minChars: options.minChars,
      split: options.split,
    },
    classes: [...options.inputs.keys()],
    splits: SPLITS.filter((_, s) => options.split[s]! > 0),
    stats: Object.fromEntries([...scans].map(([cls, scan]) => [cls, scan.stats])),
    files,
    ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
  };
}

function splitGroups(
  cls: string,
  scan: ClassScan,
  selected: Uint8Array,
  sizes: ArrayLike<number>,
  options: BalanceOptions,
  warnings: string[],
): Uint8Array {
  const groupSizes = new Array<number>(scan.groupNames.length).fill(0);
  scan.group.view().forEach((g, i) => {
    if (selected[i]) groupSizes[g]! += sizes[i]!;
  });
  const used = groupSizes.map((_, g) => g).filter((g) => groupSizes[g]! > 0);
  const order = used
    .map((g) => ({ g, u: seededUnit(options.seed, "split", cls, scan.groupNames[g]!) }))
    .sort((a, b) => a.u - b.u || a.g - b.g)
    .map(({ g }) => g);
  const wanted = options.split.filter((f) => f > 0).length;
  if (used.length < wanted) {
    warnings.push(
      `Class "${cls}" has ${used.length} group(s) for ${wanted} splits: some splits get none of it`,
    );
  }
  return assignGroups(groupSizes, order, options.split);
}

async function writeClass(
  outDir: string,
  cls: string,
  paths: string[],
  scan: ClassScan,
  plan: ClassPlan,
  options: BalanceOptions,
  onBytes: (n: number) => void,
): Promise<Record<string, DatasetFile>> {
  const writers = new Map<number, JsonlGzWriter>();
  const files = new Map<number, DatasetFile & { groupSeen: Set<number> }>();
  for (const [s, name] of SPLITS.entries()) {
    if (options.split[s]! <= 0) continue;
    await Deno.mkdir(join(outDir, name), { recursive: true });
    writers.set(s, await JsonlGzWriter.create(join(outDir, name, `${cls}.jsonl.gz`)));
    const file = {
      class: cls,
      split: name,
      groups: 0,
      sha256: "",
      docs: 0,
      chars: 0,
      bytes: 0,
      groupSeen: new Set<number>(),
    };
    files.set(s, options.countTokens ? { ...file, tokens: 0 } : file);
  }
  let r = 0; // index over valid documents read
  let k = 0; // index over kept documents
  for (const path of paths) {
    for await (const doc of readDocuments(path, { onBytes })) {
      if (r >= scan.kept.length) throw changedInput(path);
      if (!scan.kept.get(r++)) continue;
      const i = k++;
      if (!plan.selected[i]) continue;
      const group = scan.group.get(i)!;
      const file = files.get(plan.groupSplit[group]!)!;
      const sizes = sizesOf(scan, i, options);
      if (sizes.bytes !== utf8Length(doc.text)) throw changedInput(path);
      addSizes(file, sizes);
      file.groupSeen.add(group);
      await writers.get(plan.groupSplit[group]!)!.write(record(doc));
    }
  }
  if (r !== scan.kept.length) throw changedInput(paths.join(", "));
  const out: Record<string, DatasetFile> = {};
  for (const [s, file] of files) {
    const { groupSeen, ...entry } = file;
    out[`${SPLITS[s]}/${cls}.jsonl.gz`] = {
      ...entry,
      groups: groupSeen.size,
      sha256: await writers.get(s)!.close(),
    };
  }
  return out;
}

function record(doc: Document): Document {
  return { id: doc.id, group: doc.group, text: doc.text };
}

function changedInput(path: string): Error {
  return new Error(
    `Input "${path}" changed while balancing: its documents differ between the two passes`,
  );
}

function measureOf(sizes: Sizes, by: MeasureName): number {
  return sizes[by] ?? 0;
}

async function sumInputSizes(inputs: Map<string, string[]>): Promise<number> {
  let total = 0;
  for (const paths of inputs.values()) for (const path of paths) total += await inputSize(path);
  return total;
}
