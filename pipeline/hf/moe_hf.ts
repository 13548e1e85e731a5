/**
 * A JEET / MoE-CE run (`moe train-moe`) or a bundle (`moe assemble`) exported for `transformers`:
 * one Hugging Face GPT-2 folder per expert, each a whole model that
 * `GPT2LMHeadModel.from_pretrained` loads — the shared token embedding (and untied head) folded
 * into every expert — plus the router and `moe-bundle.json`, which says how `moe` combines them:
 *
 * ```text
 * OUT/
 *   moe-bundle.json     format "moe-hf-experts": variant, classes, folders, router, fallback, combine
 *   router.json         the router (core/routing), when the bundle or --router gives one
 *   <class>/            config.json, model.safetensors, tokenizer.json — one per class
 *   common/             the same for the common expert (MoE-CE, or a bundle's fallback expert)
 * ```
 *
 * Each sequence goes to one expert: the router's class, or the fallback when the router's
 * confidence is below `minConfidence`. With `combine` (MoE-CE), the routed and the common expert
 * answer together: `hidden-mean` averages their final hidden states before the one head they
 * share, which — the head being linear and shared — is the weighted sum of the two models'
 * logits; `probability-mean` (PLE bundles whose experts do not share an embedding) averages
 * their next-token distributions.
 *
 * @module
 */
import { join } from "node:path";
import { Router } from "../../core/routing/mod.ts";
import { findCheckpoint } from "../training/mod.ts";
import {
  type BundleVariant,
  checkRouterClasses,
  type CombineRule,
  loadBundle,
  MOE_CHECKPOINT_FORMAT,
  MOE_VERSION,
  readMoECheckpoint,
} from "../moe/mod.ts";
import { COMMON } from "../../models/moe.ts";
import { commonWeights, variantSpec } from "../../models/moe_variant_specs.ts";
import { isHfModelDir, readHfGpt2 } from "./hf_gpt2_read.ts";
import { type HfGpt2Source, writeHfGpt2Folder } from "./hf_gpt2_write.ts";

/** The `format` of `moe-bundle.json`. */
export const MOE_HF_FORMAT = "moe-hf-experts";
/** The version of `moe-bundle.json` this code writes. */
export const MOE_HF_VERSION = 1;
/** The file that says how the exported experts combine. */
export const MOE_HF_MANIFEST = "moe-bundle.json";

/** `moe-bundle.json`: how the exported experts answer together (see the module doc). */
export interface MoEHfManifest {
  format: typeof MOE_HF_FORMAT;
  version: typeof MOE_HF_VERSION;
  /** The moe version that wrote it. */
  moe: string;
  /** The run checkpoint or bundle exported. */
  source: string;
  variant: BundleVariant;
  /** Expert classes, in the router's order. */
  classes: string[];
  /** Class → its Hugging Face folder, relative to this file. */
  experts: Record<string, string>;
  /** The common expert's folder, or null. */
  common: string | null;
  /** The router and its threshold, or null (a run exported without `--router`). */
  router: { file: string; minConfidence: number } | null;
  /** Where a sequence the router is unsure of goes: the common expert or the most probable class. */
  fallback: "common" | "best";
  /** How the routed and the common expert combine, or null when the routed expert answers alone. */
  combine: { rule: CombineRule; weights: [number, number]; formula: string } | null;
}

/** A MoE run or bundle, read for export. */
export interface MoEExportSource {
  /** The checkpoint or bundle directory. */
  source: string;
  /** What it is: a bundle brings its router, a run may be given one ({@linkcode withRouter}). */
  kind: "run" | "bundle";
  /** The run checkpoint's step (null for a bundle). */
  step: number | null;
  variant: BundleVariant;
  classes: string[];
  /** Every expert by name (the classes, then `common` when there is one). */
  members: Map<string, HfGpt2Source>;
  router: { path: string; minConfidence: number } | null;
  fallback: "common" | "best";
  combine: { rule: CombineRule; weights: [number, number] } | null;
}

/**
 * Reads `path` for export when it is a MoE: a bundle (`manifest.json` of format `moe-bundle`) or
 * a `moe train-moe` run or checkpoint; null for a single GPT (a `moe train` / `moe distill` run
 * or a Hugging Face folder).
 *
 * @param path The directory given to `moe export`.
 * @returns The experts and how they combine, or null.
 * @throws {Error} The loaders' one-line errors naming the file (no checkpoint, a bad config, a
 *   missing parameter, a bundle that fails its checks).
 *
 * @example
 * ```ts
 * import { readMoEExportSource } from "./moe_hf.ts";
 * const error = await readMoEExportSource(await Deno.makeTempDir()).catch((e) => e);
 * console.assert(String(error).includes("No checkpoint"));
 * ```
 */
export async function readMoEExportSource(path: string): Promise<MoEExportSource | null> {
  if (await isBundleDir(path)) return await bundleSource(path);
  if (await isHfModelDir(path)) return null;
  const { dir, config } = await findCheckpoint(path, ["moe-gpt", MOE_CHECKPOINT_FORMAT]);
  if (config.format !== MOE_CHECKPOINT_FORMAT) return null;
  return await runSource(dir, config.trainer.step);
}

/**
 * A run's export source with a router (threshold 0: every input goes to its most probable class).
 *
 * @param source A run read by {@linkcode readMoEExportSource}.
 * @param path The router file.
 * @returns The source, the router added.
 * @throws {RangeError} If `source` is a bundle (it has its own router).
 * @throws {Error} If the router cannot be read or routes other classes than the run's.
 */
export async function withRouter(source: MoEExportSource, path: string): Promise<MoEExportSource> {
  if (source.kind === "bundle") {
    throw new RangeError(`Cannot give bundle "${source.source}" another router: it has its own`);
  }
  const router = await Router.load(path);
  checkRouterClasses(router.classes, source.classes, path);
  return { ...source, router: { path, minConfidence: 0 } };
}

/**
 * Writes the experts of `source` into the existing directory `dir` (see the module doc), then
 * reads every expert folder back as `moe` reads Hugging Face folders.
 *
 * @param dir The folder to fill (the caller makes it atomic).
 * @param source What {@linkcode readMoEExportSource} read.
 * @returns The `moe-bundle.json` written.
 * @throws {RangeError} If a class cannot name a folder, or a parameter is missing.
 */
export async function writeMoEHfExport(
  dir: string,
  source: MoEExportSource,
): Promise<MoEHfManifest> {
  const folders = new Map<string, string>();
  for (const [name, member] of source.members) {
    const folder = expertFolder(name, source.source);
    await Deno.mkdir(join(dir, folder));
    await writeHfGpt2Folder(join(dir, folder), member);
    folders.set(name, folder);
  }
  if (source.router) await Deno.copyFile(source.router.path, join(dir, "router.json"));
  const combine = source.combine;
  const manifest: MoEHfManifest = {
    format: MOE_HF_FORMAT,
    version: MOE_HF_VERSION,
    moe: MOE_VERSION,
    source: source.source,
    variant: source.variant,
    classes: [...source.classes],
    experts: Object.fromEntries(source.classes.map((c) => [c, folders.get(c)!])),
    common: folders.get(COMMON) ?? null,
    router: source.router
      ? { file: "router.json", minConfidence: source.router.minConfidence }
      : null,
    fallback: source.fallback,
    combine: combine ? { ...combine, formula: formula(combine.rule, combine.weights) } : null,
  };
  await Deno.writeTextFile(join(dir, MOE_HF_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  // What every later reader does, on what was just written: a folder that fails it fails here.
  for (const folder of folders.values()) await readHfGpt2(join(dir, folder));
  return manifest;
}

/** The combination rule in the terms of the exported models' outputs. */
function formula(rule: CombineRule, [routed, common]: [number, number]): string {
  return rule === "hidden-mean"
    ? `logits = ${routed}·routed(ids).logits + ${common}·common(ids).logits ` +
      "(the experts share their head, so this is the head of their averaged final hidden states)"
    : `p = ${routed}·softmax(routed(ids).logits) + ${common}·softmax(common(ids).logits)`;
}

/** The folder of expert `name`: the name itself, which must be a plain file name. */
function expertFolder(name: string, source: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) || name === "router.json") {
    throw new RangeError(
      `Cannot export "${source}": expert "${name}" cannot name a folder (letters, digits, _ . - only)`,
    );
  }
  return name;
}

async function isBundleDir(path: string): Promise<boolean> {
  const text = await Deno.readTextFile(join(path, "manifest.json")).catch(() => null);
  if (text === null) return false;
  try {
    return (JSON.parse(text) as { format?: unknown } | null)?.format === "moe-bundle";
  } catch {
    return false;
  }
}

async function bundleSource(dir: string): Promise<MoEExportSource> {
  const bundle = await loadBundle(dir);
  const { manifest } = bundle;
  const tokenizerPath = join(dir, manifest.tokenizer.file);
  const member = (m: { config: HfGpt2Source["model"]; values: HfGpt2Source["values"] }) => ({
    model: m.config,
    values: m.values,
    tokenizerPath,
    eotId: manifest.tokenizer.eotId,
  });
  const members = new Map<string, HfGpt2Source>();
  for (const [cls, e] of bundle.experts) members.set(cls, member(e));
  if (bundle.common) members.set(COMMON, member(bundle.common));
  return {
    source: dir,
    kind: "bundle",
    step: null,
    variant: manifest.variant,
    classes: [...manifest.classes],
    members,
    router: {
      path: join(dir, manifest.router.file),
      minConfidence: manifest.router.minConfidence,
    },
    fallback: manifest.fallback,
    combine: manifest.combine,
  };
}

async function runSource(dir: string, step: number): Promise<MoEExportSource> {
  const { moe, members } = await readMoECheckpoint(dir);
  const out = new Map<string, HfGpt2Source>();
  for (const [name, e] of members) {
    out.set(name, {
      model: e.config,
      values: e.values,
      tokenizerPath: e.tokenizerPath,
      eotId: e.tokenizer.eotId,
    });
  }
  const spec = variantSpec(moe.variant);
  const common = out.has(COMMON);
  // A run's stacks share `wte` and head by construction: their hidden states can be averaged.
  const combine = common && spec.commonJoinsRouted
    ? { rule: spec.combine ?? "hidden-mean", weights: commonWeights(moe.variant) }
    : null;
  return {
    source: dir,
    kind: "run",
    step,
    variant: moe.variant,
    classes: [...moe.classes],
    members: out,
    router: null,
    fallback: common ? "common" : "best",
    combine,
  };
}
