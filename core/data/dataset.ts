/**
 * Reading a balanced dataset directory written by `moe balance`:
 * `DIR/{train,val,test}/CLASS.jsonl.gz` plus `DIR/manifest.json`.
 *
 * @module
 */
import { sha256File } from "./content_hash.ts";
import { join } from "node:path";
import { z } from "zod";
import {
  checkJson,
  integer,
  name,
  parseJsonText,
  type SameType,
  sha256Hex,
} from "../schema/mod.ts";
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

const count = integer(0);
const sizesShape = { docs: count, chars: count, bytes: count, tokens: count.exactOptional() };

/** What `manifest.json` must hold; format and version are checked first, for their message. */
const datasetManifestSchema = z.object({
  format: z.literal("moe-balanced-dataset"),
  version: z.number(),
  command: z.array(z.string()),
  seed: z.number(),
  options: z.record(z.string(), z.unknown()),
  classes: z.array(name).min(1, { error: "must list at least 1 class" }),
  splits: z.array(name).min(1, { error: "must list at least 1 split" }),
  stats: z.record(
    z.string(),
    z.object({
      inputs: z.array(z.string()),
      read: count,
      duplicates: count,
      tooShort: count,
      invalidUtf8: count,
      available: z.object(sizesShape),
      selected: z.object(sizesShape),
    }),
  ),
  files: z.record(
    z.string(),
    z.object({ class: name, split: name, groups: count, sha256: sha256Hex, ...sizesShape }),
  ),
  tokenizer: z.object({ path: z.string(), fingerprint: z.string() }).exactOptional(),
});

// Compile-time check that the schema and the DatasetManifest interface describe the same fields.
const _sameFields: SameType<z.output<typeof datasetManifestSchema>, DatasetManifest> = true;

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
 * Opens a balanced dataset directory and checks its manifest and files: every field of the
 * manifest, and every file it lists present with the sha256 it records (each file is read once
 * here, so a file replaced or corrupted since `moe balance` wrote it is never used).
 *
 * @param dir Directory written by `moe balance`.
 * @returns Its classes, splits and file paths.
 * @throws {Deno.errors.NotFound} If `manifest.json` or a file it lists is missing.
 * @throws {SyntaxError} If the manifest is not JSON, of another format or version, or a field is
 *   missing, of the wrong type or inconsistent; the message names the file and the field.
 * @throws {Error} If a file's sha256 differs from the manifest's; the message names the file and
 *   both hashes.
 *
 * @example
 * ```ts ignore
 * import { openDataset } from "./dataset.ts";
 * const data = await openDataset("data/balanced");
 * console.log(data.classes, data.file("train", data.classes[0]!));
 * ```
 */
export async function openDataset(dir: string): Promise<Dataset> {
  const manifest = await readDatasetManifest(dir);
  for (const [rel, entry] of Object.entries(manifest.files)) {
    const path = join(dir, rel);
    const actual = await sha256File(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Deno.errors.NotFound(
        `Cannot open dataset "${dir}": file "${rel}" listed in manifest.json is missing`,
      );
    });
    if (actual !== entry.sha256) {
      throw new Error(
        `Cannot open dataset "${dir}": "${rel}" has sha256 ${actual}, manifest.json records ${entry.sha256} (the file changed after moe balance wrote it)`,
      );
    }
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

/** Reads `dir/manifest.json` and checks its fields and that its file names agree with them. */
async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, "manifest.json");
  const text = await Deno.readTextFile(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `Cannot open dataset "${dir}": manifest.json not found (is this a directory written by moe balance?)`,
    );
  });
  const raw = parseJsonText(text, "dataset manifest", path) as Partial<DatasetManifest> | null;
  if (raw?.format !== "moe-balanced-dataset" || raw.version !== MANIFEST_VERSION) {
    throw new SyntaxError(
      `Cannot open dataset "${dir}": manifest format ${JSON.stringify(raw?.format)} version ${
        JSON.stringify(raw?.version)
      } is not moe-balanced-dataset version ${MANIFEST_VERSION}`,
    );
  }
  const manifest = checkJson(datasetManifestSchema, raw, "dataset manifest", path);
  for (const [rel, entry] of Object.entries(manifest.files)) {
    const where = `files[${JSON.stringify(rel)}]`;
    if (rel !== `${entry.split}/${entry.class}.jsonl.gz`) {
      throw new SyntaxError(
        `Cannot load dataset manifest "${path}": ${where} holds class "${entry.class}" of split "${entry.split}", not the file its name says`,
      );
    }
    if (!manifest.classes.includes(entry.class) || !manifest.splits.includes(entry.split)) {
      throw new SyntaxError(
        `Cannot load dataset manifest "${path}": ${where} is of a class or split that classes and splits do not list`,
      );
    }
  }
  return manifest;
}
