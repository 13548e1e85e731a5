/**
 * Pass 1 of `moe balance` for one class: reads its documents once, drops duplicates and short
 * ones, and remembers a few numbers per kept document (sizes, group, seeded priority), never the
 * text.
 *
 * @module
 */
import { Column, type KeySet64 } from "./columns.ts";
import { contentKey, seededUnit } from "./content_hash.ts";
import type { ClassStats } from "./dataset.ts";
import { readDocuments } from "./documents.ts";
import { countChars, measure, type MeasureName, type Sizes } from "./measure.ts";

/** What pass 1 remembers of one class: about 30 bytes per document, no text. */
export interface ClassScan {
  /** One flag per valid document read: 1 if kept (not a duplicate, long enough). */
  kept: Column<Uint8Array>;
  /** The rest is per kept document. */
  priority: Column<Float64Array>;
  chars: Column<Float64Array>;
  bytes: Column<Float64Array>;
  tokens: Column<Float64Array>;
  group: Column<Int32Array>;
  groupNames: string[];
  stats: ClassStats;
}

/** The balancing options a scan reads (a `BalanceOptions` is one). */
export interface ScanOptions {
  minChars: number;
  seed: number;
  /** Token counter; without one no token sizes are recorded. */
  countTokens?: (text: string) => number;
}

/**
 * Reads the documents of class `cls` from `paths` and remembers what balancing needs of each.
 *
 * @param seen Content keys of the documents kept so far, across classes (a duplicate of any
 *   earlier document is dropped).
 * @param onBytes Called with the number of input bytes read, for progress.
 */
export async function scanClass(
  cls: string,
  paths: string[],
  seen: KeySet64,
  options: ScanOptions,
  onBytes: (n: number) => void,
): Promise<ClassScan> {
  const zero =
    (): Sizes => (options.countTokens
      ? { docs: 0, chars: 0, bytes: 0, tokens: 0 }
      : { docs: 0, chars: 0, bytes: 0 });
  const scan: ClassScan = {
    kept: new Column(Uint8Array),
    priority: new Column(Float64Array),
    chars: new Column(Float64Array),
    bytes: new Column(Float64Array),
    tokens: new Column(Float64Array),
    group: new Column(Int32Array),
    groupNames: [],
    stats: {
      inputs: paths,
      read: 0,
      duplicates: 0,
      tooShort: 0,
      invalidUtf8: 0,
      available: zero(),
      selected: zero(),
    },
  };
  const groupIndex = new Map<string, number>();
  const onInvalidUtf8 = () => scan.stats.invalidUtf8++;
  for (const path of paths) {
    for await (const doc of readDocuments(path, { onBytes, onInvalidUtf8 })) {
      scan.stats.read++;
      const key = contentKey(doc.text);
      const tooShort = countChars(doc.text) < options.minChars;
      const duplicate = !tooShort && !seen.add(key.hi, key.lo);
      scan.kept.push(tooShort || duplicate ? 0 : 1);
      if (tooShort) scan.stats.tooShort++;
      if (duplicate) scan.stats.duplicates++;
      if (tooShort || duplicate) continue;
      let g = groupIndex.get(doc.group);
      if (g === undefined) {
        g = scan.groupNames.push(doc.group) - 1;
        groupIndex.set(doc.group, g);
      }
      const sizes = measure(doc.text, options.countTokens);
      scan.priority.push(seededUnit(options.seed, cls, `${key.hi}:${key.lo}`));
      scan.chars.push(sizes.chars);
      scan.bytes.push(sizes.bytes);
      scan.tokens.push(sizes.tokens ?? 0);
      scan.group.push(g);
      addSizes(scan.stats.available, sizes);
    }
  }
  return scan;
}

/** The size of every kept document in the measure `by`. */
export function sizeColumn(scan: ClassScan, by: MeasureName): ArrayLike<number> {
  if (by === "docs") return new Float64Array(scan.chars.length).fill(1);
  return scan[by].view();
}

/** The sizes of kept document `i` (tokens only when a token counter is given). */
export function sizesOf(scan: ClassScan, i: number, options: ScanOptions): Sizes {
  const sizes: Sizes = { docs: 1, chars: scan.chars.get(i)!, bytes: scan.bytes.get(i)! };
  if (options.countTokens) sizes.tokens = scan.tokens.get(i)!;
  return sizes;
}

/** Adds `sizes` to the totals `into` (tokens only where `into` counts them). */
export function addSizes(into: Sizes, sizes: Sizes): void {
  into.docs += sizes.docs;
  into.chars += sizes.chars;
  into.bytes += sizes.bytes;
  if (into.tokens !== undefined) into.tokens += sizes.tokens ?? 0;
}
