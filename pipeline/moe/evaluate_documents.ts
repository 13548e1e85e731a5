/**
 * Evaluating a bundle on a file of documents (`moe eval BUNDLE --jsonl FILE`), as the
 * out-of-distribution sets are compared (GIMP help, UD sentences, numpy, manual pages): the
 * documents' tokens, each document followed by end-of-text as in token shards, cut into
 * consecutive windows of `T` tokens predicting the next `T` (the last window's tail left out),
 * each window scored by every expert; the rows of `evaluateBundle` and the routing rules
 * compared (`routing_rules.ts`), with label metrics only when the documents' class is given.
 *
 * @module
 */
import { readDocuments } from "../../core/data/mod.ts";
import type { Bundle } from "./bundle.ts";
import type { WindowsEvaluation } from "./eval_report.ts";
import { evaluateWindows, type WindowsOptions } from "./evaluate_bundle.ts";
import { checkRoutePrefix } from "./routing_rules.ts";
import type { ClassData } from "./token_losses.ts";

/** What {@linkcode evaluateDocuments} reads and how. */
export interface DocumentsEvalOptions extends WindowsOptions {
  /** A `.jsonl`, `.jsonl.gz`, `.txt` file or a folder (`readDocuments`). */
  path: string;
  /** The class every document belongs to (a class of the bundle), if known. */
  label?: string;
  /** Tokens per window (default: the smallest context of the bundle's models). */
  window?: number;
}

/** What `moe eval --jsonl` reports. */
export interface DocumentsEvalReport extends WindowsEvaluation {
  file: string;
  /** The documents' class, or null. */
  label: string | null;
  /** The key of the windows in `rows` and `routingRules` (the label, else `text`). */
  set: string;
  /** Tokens per window. */
  seqLen: number;
  documents: number;
  windows: number;
  /** Tokens of the documents, end-of-text included. */
  tokens: number;
}

/**
 * The window length of a documents evaluation, checked with its label and route prefix.
 *
 * @returns The window length.
 * @throws {RangeError} If the label is not a class of the bundle, the window is not 1 to the
 *   bundle's context, or the prefix leaves no continuation.
 */
export function documentsWindow(
  bundle: Bundle,
  options: Pick<DocumentsEvalOptions, "label" | "window" | "routePrefix">,
): number {
  const classes = bundle.manifest.classes;
  if (options.label !== undefined && !classes.includes(options.label)) {
    throw new RangeError(
      `Unknown class "${options.label}": the bundle's classes are ${classes.join(", ")}`,
    );
  }
  const models = [...bundle.experts.values(), ...(bundle.common ? [bundle.common] : [])];
  const context = Math.min(...models.map((m) => m.config.contextLength));
  const window = options.window ?? context;
  if (!Number.isInteger(window) || window < 1 || window > context) {
    throw new RangeError(`Window of ${window} tokens: it must be 1 to the context, ${context}`);
  }
  if (options.routePrefix !== undefined) checkRoutePrefix(options.routePrefix, window);
  return window;
}

/**
 * Evaluates a bundle on the documents of a file (see the module doc).
 *
 * @throws {RangeError} As {@linkcode documentsWindow}, or if the documents are shorter than one
 *   window.
 * @throws {TypeError} If the file's format is unknown.
 */
export async function evaluateDocuments(
  bundle: Bundle,
  options: DocumentsEvalOptions,
): Promise<DocumentsEvalReport> {
  const T = documentsWindow(bundle, options);
  const ids: number[] = [];
  let documents = 0;
  for await (const doc of readDocuments(options.path)) {
    for (const id of bundle.tokenizer.encode(doc.text)) ids.push(id);
    ids.push(bundle.manifest.tokenizer.eotId);
    documents++;
  }
  const data = tokenWindows(ids, T, options.batch);
  if (data.rows === 0) {
    throw new RangeError(
      `Cannot evaluate on "${options.path}": its ${ids.length} tokens are fewer than one window and its next token (${
        T + 1
      })`,
    );
  }
  const label = options.label ?? null, set = label ?? "text";
  const scored = await evaluateWindows(
    bundle,
    new Map([[set, data]]),
    T,
    new Map([[set, label]]),
    options,
  );
  return {
    file: options.path,
    label,
    set,
    seqLen: T,
    documents,
    windows: data.rows,
    tokens: ids.length,
    ...scored,
  };
}

/**
 * Consecutive windows of `T` tokens of `ids`, each predicting the next `T` (token shards'
 * evaluation windows: the window's tokens shifted by one), in batches of `batch` rows.
 *
 * @example
 * ```ts
 * import { tokenWindows } from "./evaluate_documents.ts";
 * const d = tokenWindows([1, 2, 3, 4, 5, 6], 2, 4); // [1 2]→[2 3], [3 4]→[4 5]; 6 is left out
 * console.assert(d.rows === 2 && d.batches[0]!.targets.slice(0, 4).join() === "2,3,4,5");
 * ```
 */
export function tokenWindows(ids: readonly number[], T: number, batch: number): ClassData {
  const rows = Math.max(0, Math.floor((ids.length - 1) / T));
  const batches: ClassData["batches"] = [];
  for (let first = 0; first < rows; first += batch) {
    const tokens = new BigInt64Array(batch * T), targets = new BigInt64Array(batch * T).fill(-1n);
    const n = Math.min(batch, rows - first);
    for (let i = 0; i < n * T; i++) {
      tokens[i] = BigInt(ids[first * T + i]!);
      targets[i] = BigInt(ids[first * T + i + 1]!);
    }
    batches.push({ tokens, targets, count: n * T });
  }
  return { batches, rows, tokens: rows * T };
}
