/**
 * The MoE bundle: everything needed to answer any input with the right expert, in one directory
 * that `moe assemble` writes and `moe eval` / `moe generate` read.
 *
 * ```text
 * BUNDLE/
 *   manifest.json              format "moe-bundle", version 1 (below)
 *   router.json                the router model (core/routing)
 *   tokenizer.json             the one tokenizer of every expert
 *   experts/<class>/           one per class, and experts/common/ when there is one:
 *     config.json              its GPTConfig
 *     model.safetensors        its parameters by GPT name (wte, wpe, h0.ln1.scale, …), no moments
 *     model.onnx               tokens [1, ctx] → logits [1, ctx, V], weights baked in
 * ```
 *
 * `manifest.json` names every file, the classes (router order), the tokenizer's sha256 and
 * vocabulary size, the variant the experts came from (`ple`, `jeet`, `moe-ce`), how unknown
 * inputs fall back, and how the routed and common experts combine: `hidden-mean` (final hidden
 * states averaged ½ each before the routed expert's head; the experts share `wte`: JEET/MoE-CE,
 * or PLE experts distilled from one embedding) or `probability-mean` (next-token distributions
 * averaged, for experts with their own embeddings).
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { Router } from "../../core/routing/mod.ts";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { loadTokenizer, type TextTokenizer } from "../../core/tokenizer/mod.ts";
import { COMMON } from "../../models/moe.ts";
import { VARIANT_NAMES, type VariantName } from "../../models/moe_variant_specs.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import {
  checkJson,
  finite,
  integer,
  name,
  parseJsonText,
  type SameType,
  sha256Hex,
} from "../../core/schema/mod.ts";
import { gptConfigSchema, gptParameters } from "../training/mod.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The `format` of a bundle manifest. */
export const BUNDLE_FORMAT = "moe-bundle";
/** The manifest version this code reads and writes. */
export const BUNDLE_VERSION = 1;
/** The moe version written into manifests. */
export const MOE_VERSION: string = denoJson.version;

/** How the routed expert and the common expert combine. */
export type CombineRule = "hidden-mean" | "probability-mean";

/** Where the experts came from: any variant of `MOE_VARIANT_SPECS` (every one can be bundled). */
export type BundleVariant = VariantName;

/** One expert's files, relative to the bundle. */
export interface BundleMemberEntry {
  config: string;
  parameters: string;
  onnx: string;
  /** The checkpoint or run it was taken from (informative). */
  source: string;
  /** Number of parameters (the shared `wte` counted in each expert). */
  parameterCount: number;
}

/** `manifest.json` of a bundle. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  /** The moe version that wrote it. */
  moe: string;
  variant: BundleVariant;
  /** Expert classes, in the router's order. */
  classes: string[];
  router: { file: string; minConfidence: number };
  /** Where `unknown` inputs go: the common expert, or the router's most probable class. */
  fallback: "common" | "best";
  tokenizer: { file: string; fingerprint: string; vocabSize: number; eotId: number };
  experts: Record<string, BundleMemberEntry>;
  common: BundleMemberEntry | null;
  /** How the routed and the common expert combine (null without a common expert). */
  combine: { rule: CombineRule; weights: [number, number] } | null;
}

/** A loaded expert: its config and parameters, and its ONNX file. */
export interface BundleModel {
  name: string;
  config: GPTConfig;
  values: Map<string, Float32Array>;
  onnxPath: string;
}

/** A loaded, validated bundle. */
export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  router: Router;
  tokenizer: TextTokenizer;
  experts: Map<string, BundleModel>;
  common: BundleModel | null;
}

const memberEntrySchema = z.object({
  config: name,
  parameters: name,
  onnx: name,
  source: z.string(),
  parameterCount: integer(0),
});

/** What `manifest.json` must hold; format and version are checked first, for their message. */
const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  moe: z.string(),
  variant: z.enum(VARIANT_NAMES),
  classes: z.array(name).min(1, { error: "must list at least 1 class" }),
  router: z.object({ file: name, minConfidence: finite({ min: 0, max: 1 }) }),
  fallback: z.enum(["common", "best"]),
  tokenizer: z.object({
    file: name,
    fingerprint: sha256Hex,
    vocabSize: integer(2),
    eotId: integer(0),
  }),
  experts: z.record(z.string(), memberEntrySchema),
  common: memberEntrySchema.nullable(),
  combine: z.object({
    rule: z.enum(["hidden-mean", "probability-mean"]),
    weights: z.tuple([finite({ min: 0, max: 1 }), finite({ min: 0, max: 1 })]),
  }).nullable(),
});

// Compile-time check that the schema and the BundleManifest interface describe the same fields.
const _sameFields: SameType<z.output<typeof bundleManifestSchema>, BundleManifest> = true;

/** The bundle-relative directory of an expert (`experts/en`, `experts/common`). */
export function memberDir(name: string): string {
  return `experts/${name}`;
}

/** The manifest entry of an expert written by `writeMember`. */
export function memberEntry(
  name: string,
  source: string,
  parameterCount: number,
): BundleMemberEntry {
  const dir = memberDir(name);
  return {
    config: `${dir}/config.json`,
    parameters: `${dir}/model.safetensors`,
    onnx: `${dir}/model.onnx`,
    source,
    parameterCount,
  };
}

/**
 * Loads a bundle and checks it: format and version, every file present, the tokenizer's sha256
 * and vocabulary against the manifest, every expert's vocabulary and parameters, the router's
 * classes against the experts, a common expert that the combination rule can use.
 *
 * @param dir The bundle directory.
 * @returns The bundle, router and tokenizer loaded, parameters in memory.
 * @throws {Error} One line naming the bundle file and the problem.
 *
 * @example
 * ```ts
 * import { loadBundle } from "./bundle.ts";
 * try {
 *   await loadBundle(await Deno.makeTempDir());
 * } catch (error) {
 *   console.assert(String(error).includes("manifest.json"));
 * }
 * ```
 */
export async function loadBundle(dir: string): Promise<Bundle> {
  const manifest = await readManifest(dir);
  const files = bundleFiles(dir);
  const { fail, read } = files;
  const tokenizer = await read(manifest.tokenizer.file, loadTokenizer);
  if (tokenizer.fingerprint !== manifest.tokenizer.fingerprint) {
    fail(
      manifest.tokenizer.file,
      "is not the tokenizer the experts were trained with (sha256 differs from manifest.json)",
    );
  }
  if (tokenizer.vocabSize > manifest.tokenizer.vocabSize) {
    fail(
      manifest.tokenizer.file,
      `has ${tokenizer.vocabSize} tokens, more than the experts' vocabulary of ${manifest.tokenizer.vocabSize}`,
    );
  }
  const router = await read(manifest.router.file, (p) => Router.load(p));
  checkRouterClasses(router.classes, manifest.classes, files.file(manifest.router.file));
  const vocabSize = manifest.tokenizer.vocabSize;
  const experts = new Map<string, BundleModel>();
  for (const cls of manifest.classes) {
    const e = manifest.experts[cls];
    if (!e) return fail("manifest.json", `lists class "${cls}" without an expert`);
    experts.set(cls, await loadMember(files, vocabSize, cls, e));
  }
  const common = manifest.common
    ? await loadMember(files, vocabSize, COMMON, manifest.common)
    : null;
  if (common && manifest.combine?.rule === "hidden-mean") {
    checkCommonWidth(experts, common, (why) => fail(manifest.common!.config, why));
  }
  return { dir, manifest, router, tokenizer, experts, common };
}

/** A bundle's files: their paths, the one-line failure naming one, and a checked read. */
interface BundleFiles {
  file(rel: string): string;
  fail(rel: string, why: string): never;
  read<T>(rel: string, load: (path: string) => Promise<T>): Promise<T>;
}

function bundleFiles(dir: string): BundleFiles {
  const file = (rel: string) => join(dir, rel);
  const fail = (rel: string, why: string): never => {
    throw new Error(`Cannot load bundle "${dir}": "${rel}" ${why}`);
  };
  const read = async <T>(rel: string, load: (path: string) => Promise<T>): Promise<T> => {
    if (!await exists(file(rel))) fail(rel, "is missing");
    try {
      return await load(file(rel));
    } catch (error) {
      return fail(rel, `cannot be read (${(error as Error).message})`);
    }
  };
  return { file, fail, read };
}

/** Loads one expert and checks its config, vocabulary and parameters. */
async function loadMember(
  { file, fail, read }: BundleFiles,
  vocabSize: number,
  name: string,
  e: BundleMemberEntry,
): Promise<BundleModel> {
  // Read here rather than through read(): the schema's message names the file and field.
  const text = await read(e.config, (p) => Deno.readTextFile(p));
  const path = file(e.config);
  const config = checkJson(
    gptConfigSchema,
    parseJsonText(text, "expert config", path),
    "expert config",
    path,
  );
  if (config.vocabSize !== vocabSize) {
    fail(e.config, `has vocab size ${config.vocabSize}, the bundle's tokenizer ${vocabSize}`);
  }
  const { tensors } = await read(e.parameters, loadSafetensors);
  let values = new Map<string, Float32Array>();
  try {
    values = gptParameters(tensors, config);
  } catch (error) {
    fail(e.parameters, `does not fit its config: ${(error as Error).message}`);
  }
  if (!await exists(file(e.onnx))) fail(e.onnx, "is missing");
  return { name, config, values, onnxPath: file(e.onnx) };
}

/** Hidden states are averaged only between experts of the common expert's width. */
function checkCommonWidth(
  experts: ReadonlyMap<string, BundleModel>,
  common: BundleModel,
  fail: (why: string) => never,
): void {
  for (const [cls, e] of experts) {
    if (e.config.dModel !== common.config.dModel) {
      fail(
        `has width ${common.config.dModel}, expert "${cls}" ${e.config.dModel}: hidden states cannot be averaged`,
      );
    }
  }
}

/**
 * Checks that the router and the experts cover the same classes.
 *
 * @throws {Error} Naming the router file and the classes that differ.
 */
export function checkRouterClasses(
  router: readonly string[],
  experts: readonly string[],
  path: string,
): void {
  const unknown = experts.filter((c) => !router.includes(c));
  if (unknown.length > 0) {
    throw new Error(
      `Cannot use router "${path}": it does not know class ${
        unknown.map((c) => `"${c}"`).join(", ")
      } (it routes to ${router.join(", ")})`,
    );
  }
  const orphan = router.filter((c) => !experts.includes(c));
  if (orphan.length > 0) {
    throw new Error(
      `Cannot use router "${path}": it routes to ${
        orphan.map((c) => `"${c}"`).join(", ")
      }, which has no expert`,
    );
  }
}

async function readManifest(dir: string): Promise<BundleManifest> {
  const path = join(dir, "manifest.json");
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null) throw new Error(`Cannot load bundle "${dir}": no manifest.json there`);
  const raw = parseJsonText(text, "bundle manifest", path) as Partial<BundleManifest> | null;
  if (raw?.format !== BUNDLE_FORMAT) {
    throw new Error(`Cannot load bundle "${path}": not a ${BUNDLE_FORMAT} manifest`);
  }
  if (raw.version !== BUNDLE_VERSION) {
    throw new Error(
      `Cannot load bundle "${path}": format version ${
        JSON.stringify(raw.version)
      } is not supported (this moe ${MOE_VERSION} reads version ${BUNDLE_VERSION}; reassemble it)`,
    );
  }
  return checkJson(bundleManifestSchema, raw, "bundle manifest", path);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
