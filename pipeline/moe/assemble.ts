/**
 * Assembling a bundle (see `bundle.ts`) from a router and experts: checkpoint or run
 * directories of `moe train` / `moe distill` (PLE), or one run of `moe train-moe` whose stacks
 * are each extracted as a standalone GPT (the shared `wte` plus its own stack).
 *
 * Everything is checked before anything is written, the bundle is written into a temporary
 * directory, loaded back with the same checks `loadBundle` applies, and only then renamed into
 * place: a failed assemble leaves nothing behind.
 *
 * @module
 */
import { join } from "node:path";
import { assertReplaceable, withAtomicDir } from "../../core/files/mod.ts";
import { Router } from "../../core/routing/mod.ts";
import { float32, loadSafetensors, saveSafetensors } from "../../core/runtime/mod.ts";
import { findCheckpoint, readGPTCheckpoint } from "../training/mod.ts";
import { buildGPTInference, type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";
import { COMMON, memberValues, type MoEConfig, moeMembers } from "../../models/moe.ts";
import { sharesEmbedding } from "../../models/moe_mixture.ts";
import { commonWeights, variantSpec } from "../../models/moe_variant_specs.ts";
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleManifest,
  type BundleMemberEntry,
  type BundleVariant,
  checkRouterClasses,
  type CombineRule,
  loadBundle,
  memberDir,
  memberEntry,
  MOE_VERSION,
} from "./bundle.ts";
import { MOE_CHECKPOINT_FORMAT, type MoECheckpointConfig } from "./moe_checkpoint.ts";

/** A standalone GPT read from a checkpoint. */
export interface ExpertSource {
  config: GPTConfig;
  values: Map<string, Float32Array>;
  tokenizer: { fingerprint: string; vocabSize: number; eotId: number };
  /** The checkpoint's `tokenizer.json`. */
  tokenizerPath: string;
  /** The checkpoint directory. */
  source: string;
}

/** What to assemble. */
export interface AssembleOptions {
  /** The router model file. */
  router: string;
  /** Class → checkpoint or run directory (PLE). */
  experts?: ReadonlyMap<string, string>;
  /** Checkpoint or run directory of the common expert (PLE). */
  common?: string;
  /** A `moe train-moe` run or checkpoint (instead of `experts` and `common`). */
  fromMoE?: string;
  /** Router confidence below which an input is `unknown` (default 0: never). */
  minConfidence?: number;
  /** Replace an existing bundle. */
  force?: boolean;
}

/**
 * Reads a GPT checkpoint (a `moe train` / `moe distill` run or checkpoint directory): its config
 * and its parameters (the optimizer moments are left out).
 *
 * @throws {Error} Naming the checkpoint when it is missing, of another format or lacks a parameter.
 */
export async function readExpertCheckpoint(path: string): Promise<ExpertSource> {
  const { dir, config, values } = await readGPTCheckpoint(path);
  return {
    config: config.model,
    values,
    tokenizer: config.tokenizer,
    tokenizerPath: join(dir, "tokenizer.json"),
    source: dir,
  };
}

/**
 * Reads a `moe train-moe` checkpoint and extracts every stack (the classes, then `common` for
 * MoE-CE) as a standalone GPT: the shared `wte` (and untied `lm_head`) and its own position
 * table, blocks and LayerNorm.
 *
 * @throws {Error} Naming the checkpoint when it is missing, not a MoE run, or lacks a parameter.
 */
export async function readMoECheckpoint(
  path: string,
): Promise<{ moe: MoEConfig; members: Map<string, ExpertSource> }> {
  const found = await findCheckpoint(path, [MOE_CHECKPOINT_FORMAT]);
  const config = found.config as MoECheckpointConfig;
  const file = join(found.dir, "state.safetensors");
  const { tensors } = await loadSafetensors(file);
  const all = new Map<string, Float32Array>();
  for (const [k, t] of Object.entries(tensors)) if (t.dtype === "float32") all.set(k, t.data);
  const members = new Map<string, ExpertSource>();
  for (const m of moeMembers(config.moe)) {
    let values: Map<string, Float32Array>;
    try {
      values = memberValues(config.model, all, m);
    } catch (error) {
      throw new Error(`Cannot read MoE "${file}": ${(error as Error).message}`);
    }
    members.set(m, {
      config: config.model,
      values,
      tokenizer: config.tokenizer,
      tokenizerPath: join(found.dir, "tokenizer.json"),
      source: `${found.dir}#${m}`,
    });
  }
  return { moe: config.moe, members };
}

/**
 * Checks, writes and re-loads a bundle at `out` (atomically).
 *
 * @param out The bundle directory to create.
 * @param options Router, experts (or a MoE run), common expert, threshold.
 * @returns The manifest written.
 * @throws {Error} One line naming the file and the problem: a missing part, tokenizers or
 *   vocabularies that differ, an expert for a class the router does not know, `out` existing.
 * @throws {UsageError} With `force`, when `out` is not a bundle `moe` wrote or holds an input.
 */
export async function assembleBundle(
  out: string,
  options: AssembleOptions,
): Promise<BundleManifest> {
  const inputs = [
    options.router,
    ...(options.experts?.values() ?? []),
    options.common,
    options.fromMoE,
  ];
  if (options.force) await assertReplaceable(out, { kind: "dir", inputs });
  const router = await Router.load(options.router);
  const { variant, experts, common } = await gatherSources(options);
  checkRouterClasses(router.classes, [...experts.keys()], options.router);
  const first = [...experts.values()][0]!;
  for (const [name, e] of [...experts, ...(common ? [[COMMON, common] as const] : [])]) {
    if (e.tokenizer.fingerprint !== first.tokenizer.fingerprint) {
      throw new Error(
        `Cannot assemble: expert "${name}" ("${e.source}") was trained with another tokenizer than "${first.source}" (sha256 differs)`,
      );
    }
    if (e.config.vocabSize !== first.config.vocabSize) {
      throw new Error(
        `Cannot assemble: expert "${name}" ("${e.source}") has vocab size ${e.config.vocabSize}, "${first.source}" ${first.config.vocabSize}`,
      );
    }
  }
  const rule = common ? combineRule(variant, [...experts.values()], common) : null;
  if (rule === "hidden-mean") {
    for (const [name, e] of experts) {
      if (e.config.dModel !== common!.config.dModel) {
        throw new Error(`Cannot assemble: expert "${name}" and the common expert differ in width`);
      }
    }
  }
  return await withAtomicDir(out, async (tmp) => {
    const entries: Record<string, BundleMemberEntry> = {};
    for (const cls of router.classes) entries[cls] = await writeMember(tmp, cls, experts.get(cls)!);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      moe: MOE_VERSION,
      variant,
      classes: [...router.classes],
      router: { file: "router.json", minConfidence: options.minConfidence ?? 0 },
      fallback: common ? "common" : "best",
      tokenizer: { file: "tokenizer.json", ...first.tokenizer, vocabSize: first.config.vocabSize },
      experts: entries,
      common: common ? await writeMember(tmp, COMMON, common) : null,
      combine: rule ? { rule, weights: commonWeights(variant) } : null,
    };
    await Deno.copyFile(options.router, join(tmp, "router.json"));
    await Deno.copyFile(first.tokenizerPath, join(tmp, "tokenizer.json"));
    await Deno.writeTextFile(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    await loadBundle(tmp); // the checks of every later load, on what was just written
    return manifest;
  }, { replace: options.force ?? false, inputs, command: "assemble" });
}

async function gatherSources(options: AssembleOptions): Promise<{
  variant: BundleVariant;
  experts: Map<string, ExpertSource>;
  common: ExpertSource | null;
}> {
  if (options.fromMoE !== undefined) {
    if ((options.experts?.size ?? 0) > 0 || options.common !== undefined) {
      throw new RangeError("Cannot assemble: give either a MoE run or experts, not both");
    }
    const { moe, members } = await readMoECheckpoint(options.fromMoE);
    const common = members.get(COMMON) ?? null;
    members.delete(COMMON);
    return { variant: moe.variant, experts: members, common };
  }
  if (!options.experts || options.experts.size === 0) {
    throw new RangeError("Cannot assemble: no experts (give class=DIR pairs or a MoE run)");
  }
  const experts = new Map<string, ExpertSource>();
  for (const [cls, path] of options.experts) experts.set(cls, await readExpertCheckpoint(path));
  const common = options.common !== undefined ? await readExpertCheckpoint(options.common) : null;
  return { variant: "ple", experts, common };
}

/**
 * The variant's combination rule (JEET/MoE-CE: `hidden-mean`, their experts share `wte` and head
 * by construction); where it has none (PLE), `hidden-mean` when every expert shares the common
 * expert's `wte` and head, else `probability-mean`: averaging hidden states read by different
 * embeddings means nothing.
 */
function combineRule(
  variant: BundleVariant,
  experts: readonly ExpertSource[],
  common: ExpertSource,
): CombineRule {
  const declared = variantSpec(variant).combine;
  if (declared) return declared;
  return sharesEmbedding([common, ...experts]) ? "hidden-mean" : "probability-mean";
}

async function writeMember(
  root: string,
  name: string,
  e: ExpertSource,
): Promise<BundleMemberEntry> {
  const entry = memberEntry(
    name,
    e.source,
    [...e.values.values()].reduce((s, v) => s + v.length, 0),
  );
  await Deno.mkdir(join(root, memberDir(name)), { recursive: true });
  await Deno.writeTextFile(join(root, entry.config), JSON.stringify(e.config, null, 2) + "\n");
  const tensors = Object.fromEntries(
    gptParamSpecs(e.config).map((s) => [s.name, float32(e.values.get(s.name)!, s.shape)]),
  );
  await saveSafetensors(join(root, entry.parameters), tensors, { format: "moe-expert" });
  const onnx = buildGPTInference(e.config, {
    batch: 1,
    seqLen: e.config.contextLength,
    values: e.values,
  });
  await Deno.writeFile(join(root, entry.onnx), onnx);
  return entry;
}
