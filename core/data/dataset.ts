/**
 * Reading a balanced dataset directory written by `moe balance`:
 * `DIR/{train,val,test}/CLASS.jsonl.gz` plus `DIR/manifest.json`.
 *
 * @module
 */
import { join } from "node:path";
import type { Sizes } from "./measure.ts";

/** The manifest format version this code writes and reads. */
export const MANIFEST_VERSION = 1;

/** Per-file entry of the manifest. */
export interface DatasetFile extends Sizes {
  class: string;
  split: string;
  groups: number;
  sha256: string;
}

/** `manifest.json` of a balanced dataset. */
export interface DatasetManifest {
  format: "moe-balanced-dataset";
  version: number;
  command: string[];
  seed: number;
  options: Record<string, unknown>;
  classes: string[];
  splits: string[];
  /** Per class: what was read and what was kept, before splitting. */
  stats: Record<string, ClassStats>;
  /** Keyed by relative path, e.g. `train/en.jsonl.gz`. */
  files: Record<string, DatasetFile>;
  tokenizer?: { path: string; fingerprint: string };
}

/** What balancing read and kept for one class. */
export interface ClassStats {
  inputs: string[];
  read: number;
  duplicates: number;
  tooShort: number;
  invalidUtf8: number;
  available: Sizes;
  selected: Sizes;
}

/** An opened balanced dataset. */
export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  classes: string[];
  splits: string[];
  /** Path of one class's file in one split. */
  file(split: string, cls: string): string;
}

/**
 * Opens a balanced dataset directory and checks its manifest.
 *
 * @param dir Directory written by `moe balance`.
 * @returns Its classes, splits and file paths.
 * @throws {Error} If the manifest is missing, of another version, or lists a missing file.
 *
 * @example
 * ```ts ignore
 * import { openDataset } from "./dataset.ts";
 * const data = await openDataset("data/balanced");
 * console.log(data.classes, data.file("train", data.classes[0]!));
 * ```
 */
export async function openDataset(dir: string): Promise<Dataset> {
  const path = join(dir, "manifest.json");
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(path)) as DatasetManifest;
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "not found (is this a directory written by moe balance?)"
      : (error as Error).message;
    throw new Error(`Cannot open dataset "${dir}": manifest.json ${why}`);
  }
  if (manifest.format !== "moe-balanced-dataset" || manifest.version !== MANIFEST_VERSION) {
    throw new Error(
      `Cannot open dataset "${dir}": manifest format ${
        JSON.stringify(manifest.format)
      } version ${manifest.version} is not moe-balanced-dataset version ${MANIFEST_VERSION}`,
    );
  }
  for (const rel of Object.keys(manifest.files)) {
    await Deno.stat(join(dir, rel)).catch(() => {
      throw new Error(
        `Cannot open dataset "${dir}": file "${rel}" listed in manifest.json is missing`,
      );
    });
  }
  return {
    dir,
    manifest,
    classes: manifest.classes,
    splits: manifest.splits,
    file: (split, cls) => {
      const rel = `${split}/${cls}.jsonl.gz`;
      if (!manifest.files[rel]) {
        throw new RangeError(
          `Dataset "${dir}" has no ${split} split for class "${cls}" (classes: ${
            manifest.classes.join(", ")
          })`,
        );
      }
      return join(dir, rel);
    },
  };
}
